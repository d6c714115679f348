"""AWS: the one boto3 session factory (`session.py`, clients through `connect.py`); tenant
environments (`environments.py`, secrets sealed by `crypto.py`); the setup kit (`setup_kit.py`
assembling `policies.py`, `cors.py`, `userdata.py`, `cloudformation.py`, names from
`names.py`); the `doctor` checks; and the provisioner (`provision.py`, `provision_iam.py`).
AWS failures are sorted in `errors.py`."""

from mantle.cloud.aws.session import AwsCredentials, client_config, make_session

__all__ = ["AwsCredentials", "client_config", "make_session"]
