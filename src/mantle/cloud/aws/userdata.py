"""The Batch hosts' launch-template user data (pure): a MIME multipart document, as AWS Batch
requires, whose one part is a cloud-config that

- moves Docker's storage (`/var/lib/docker`) onto amazon-ebs-autoscale, so tasks never run
  out of disk: the volume grows with what the containers write;
- installs the AWS CLI with miniconda at the environment's `cli_path` (default
  `/miniconda/bin/aws`): Nextflow mounts that self-contained prefix into every task container
  and stages files with it (`aws.batch.cliPath`).
"""

from __future__ import annotations

import base64

import yaml

from mantle.cloud.aws import names
from mantle.schemas.environments import EnvironmentPublic

BOUNDARY = "==MANTLE-BOUNDARY=="
EBS_AUTOSCALE_REPO = "https://github.com/awslabs/amazon-ebs-autoscale.git"
EBS_AUTOSCALE_VERSION = "v2.4.7"  # pinned: hosts must not change under a running pipeline
DOCKER_STORAGE = "/var/lib/docker"
# IMDSv2 only; two hops so task containers (bridge networking) reach the instance role.
METADATA_OPTIONS = {
    "HttpEndpoint": "enabled",
    "HttpTokens": "required",
    "HttpPutResponseHopLimit": 2,
}
MINICONDA_URL = "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-$(uname -m).sh"


def conda_prefix(cli_path: str) -> str:
    """`/miniconda/bin/aws` -> `/miniconda` (the schema guarantees the `/bin/aws` ending)."""
    return cli_path.removesuffix("/bin/aws")


def cloud_config(env: EnvironmentPublic) -> dict:
    prefix = conda_prefix(env.cli_path)
    return {
        "repo_update": True,
        "repo_upgrade": "security",
        "packages": ["jq", "btrfs-progs", "lvm2", "git", "unzip", "wget", "bzip2"],
        "runcmd": [
            # Nothing may hold Docker's storage while it moves to the autoscaled volume.
            "systemctl stop ecs",
            "systemctl stop docker",
            f"rm -rf {DOCKER_STORAGE}/*",
            f"git clone --depth 1 --branch {EBS_AUTOSCALE_VERSION} {EBS_AUTOSCALE_REPO} "
            "/opt/amazon-ebs-autoscale",
            f"sh /opt/amazon-ebs-autoscale/install.sh --mountpoint {DOCKER_STORAGE} "
            "> /var/log/ebs-autoscale-install.log 2>&1",
            "systemctl start docker",
            f"wget -q -O /tmp/miniconda.sh {MINICONDA_URL}",
            f"bash /tmp/miniconda.sh -b -f -p {prefix}",
            f"{prefix}/bin/conda install -y --override-channels -c conda-forge awscli",
            f"{env.cli_path} --version",
            "rm -f /tmp/miniconda.sh",
            # --no-block: ecs.service waits for cloud-init to finish; blocking would deadlock.
            "systemctl enable --now --no-block ecs",
        ],
    }


def user_data(env: EnvironmentPublic) -> str:
    """The MIME multipart user data, as text (`user_data_base64` for the EC2 API)."""
    config = "#cloud-config\n" + yaml.safe_dump(cloud_config(env), sort_keys=False, width=1000)
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n'
        "\n"
        f"--{BOUNDARY}\n"
        'Content-Type: text/cloud-config; charset="us-ascii"\n'
        "\n"
        f"{config}"
        "\n"
        f"--{BOUNDARY}--\n"
    )


def user_data_base64(env: EnvironmentPublic) -> str:
    return base64.b64encode(user_data(env).encode()).decode()


def launch_template_data(env: EnvironmentPublic, tenant: str) -> dict:
    """EC2's LaunchTemplateData: the user data, IMDSv2, and this environment's tags on the
    instances and volumes (the EBS-autoscale policy only lets hosts touch tagged ones)."""
    tags = names.tag_list(tenant, env.name)
    return {
        "UserData": user_data_base64(env),
        "MetadataOptions": METADATA_OPTIONS,
        "TagSpecifications": [{"ResourceType": k, "Tags": tags} for k in ("instance", "volume")],
    }
