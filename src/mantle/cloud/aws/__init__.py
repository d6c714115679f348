"""AWS: the one boto3 session factory (`session.py`), and later the setup kit, `doctor` checks
and the provisioner."""

from mantle.cloud.aws.session import AwsCredentials, client_config, make_session

__all__ = ["AwsCredentials", "client_config", "make_session"]
