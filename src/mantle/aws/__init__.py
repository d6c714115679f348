"""The bottom AWS layer every other part builds on: the one boto3 session factory
(`session.py`), clients for a region and endpoint (`connect.py`), and the sorting of AWS
failures into retryable and permanent errors with secrets redacted (`errors.py`).

Tenant environments, the setup kit, the doctor and the provisioner live above it, in
`mantle.cloud.aws`; the object store and the catalog use this layer directly."""

from mantle.aws.session import AwsCredentials, client_config, make_session

__all__ = ["AwsCredentials", "client_config", "make_session"]
