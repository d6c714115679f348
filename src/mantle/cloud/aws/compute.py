"""The Batch compute environment's settings (pure): one place, so the CloudFormation template,
the provisioner and the doctor agree on what a Mantle compute environment is.

The image type is pinned to ECS_AL2: the user data (`userdata`) is written for Amazon Linux 2
(systemd units, yum, cloud-init boothooks), and Batch's default image type may change under
us (it moved to ECS_AL2023). `updateToLatestImageVersion` lets every infrastructure update
(a new launch template version, say) move the hosts to the newest ECS_AL2 AMI too; the API
takes it on updates only (CloudFormation as a property of the compute environment).
Infrastructure updates need the BEST_FIT_PROGRESSIVE strategy and Batch's service-linked
role; a compute environment without them must be replaced to change its hosts' setup.
"""

from __future__ import annotations

IMAGE_TYPE = "ECS_AL2"
ALLOCATION_STRATEGY = "BEST_FIT_PROGRESSIVE"
INSTANCE_TYPES = ["optimal"]
MIN_VCPUS = 0
DEFAULT_MAX_VCPUS = 256
UPDATE_TO_LATEST_IMAGE = True


def ec2_configuration() -> list[dict[str, str]]:
    return [{"imageType": IMAGE_TYPE}]
