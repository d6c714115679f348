"""The Batch hosts' launch template (pure): its data (a gp3 data volume for Docker, IMDSv2, tags)
and its user data, a MIME multipart document as AWS Batch requires, with two shell parts.

Docker storage. The launch template maps one encrypted gp3 volume (`DATA_DEVICE`, size from
the kit or provisioner, default `DEFAULT_DOCKER_VOLUME_GIB`, deleted with the instance); a
boothook formats it once and mounts it at `/var/lib/docker` on every boot, before Docker and
the ECS agent start. We dropped amazon-ebs-autoscale: v2.4.7 needs the AWS CLI before the
user data could install one, its IMDSv2 path is broken while the launch template requires
IMDSv2, and it is a daemon with EC2 volume rights on every host. A fixed volume needs no
daemon, no IMDS call and no EC2 rights; a pipeline that needs more disk sets a larger size.

The AWS CLI. Nextflow mounts a self-contained CLI into every task container
(`aws.batch.cliPath`, default `/miniconda/bin/aws`): the second part installs a pinned
Miniconda (its installer checked against `MINICONDA_SHA256`) and a pinned awscli into that
prefix, and links it into `/usr/local/bin`, as the Nextflow guide does.

Fail closed. Both parts run under `set -euo pipefail` with an EXIT trap. The boothook
installs a systemd drop-in so the ECS agent starts only once `HOST_READY` exists, which the
second part writes after `aws --version` works. Any failing step prints `FAILURE_BANNER` on
the console, removes that file, stops the agent and shuts the host down: it never joins the
Batch queue, and the Auto Scaling group replaces the stopped instance.
"""

from __future__ import annotations

import base64

from mantle.cloud.aws import names
from mantle.schemas.environments import EnvironmentPublic

BOUNDARY = "==MANTLE-BOUNDARY=="
DOCKER_STORAGE = "/var/lib/docker"
DATA_DEVICE = "/dev/xvdba"  # past the instance-store names EC2 hands out (/dev/sdb...)
DATA_LABEL = "mantle-docker"
DEFAULT_DOCKER_VOLUME_GIB = 500
HOST_READY = "/var/lib/mantle/host-ready"
ECS_DROP_IN = "/etc/systemd/system/ecs.service.d/mantle-ready.conf"
FSTAB = "/etc/fstab"
INSTALLER = "/tmp/miniconda.sh"
CLI_LINK = "/usr/local/bin/aws"
FAILURE_BANNER = "MANTLE HOST SETUP FAILED"
# IMDSv2 only; two hops so task containers (bridge networking) reach the instance role.
METADATA_OPTIONS = {
    "HttpEndpoint": "enabled",
    "HttpTokens": "required",
    "HttpPutResponseHopLimit": 2,
}
# Pinned so hosts never change under a running pipeline. The checksums are those Anaconda
# publishes for these installers (repo.anaconda.com/miniconda, also pinned in the official
# continuumio/miniconda3 image). py312_24.5.0 still runs on Amazon Linux 2's glibc 2.26.
MINICONDA_VERSION = "py312_24.5.0-0"
MINICONDA_SHA256 = {
    "x86_64": "4b3b3b1b99215e85fd73fb2c2d7ebf318ac942a457072de62d885056556eb83e",
    "aarch64": "70afe954cc8ee91f605f9aa48985bfe01ecfc10751339e8245eac7262b01298d",
}
MINICONDA_URL = "https://repo.anaconda.com/miniconda/Miniconda3-{version}-Linux-{arch}.sh"
AWSCLI_VERSION = "1.46.2"  # from PyPI; v1 is the CLI a conda prefix can hold


def _fail_closed() -> str:
    """Shell: when the script stops on a failing command (`set -e`), say so on the console,
    keep the ECS agent down and shut the host down. An EXIT trap, so it also covers failures
    inside functions; subshells do not inherit it."""
    return f"""\
set -euo pipefail
fail_closed() {{
  set +e
  echo "{FAILURE_BANNER} ($1): this host will not join the Batch queue and shuts down." \\
    "See /var/log/cloud-init-output.log." | tee /dev/console >&2
  rm -f {HOST_READY}
  systemctl stop --no-block ecs.service
  shutdown -h now
}}
trap 'failed_line=$LINENO' ERR
trap 'status=$?; [ "$status" = 0 ] || fail_closed "$0: exit $status, line ${{failed_line:-?}}"' \\
  EXIT
"""


def conda_prefix(cli_path: str) -> str:
    """`/miniconda/bin/aws` -> `/miniconda` (the schema guarantees the `/bin/aws` ending)."""
    return cli_path.removesuffix("/bin/aws")


def docker_volume_script() -> str:
    """The boothook: every boot, before Docker starts. Holds the ECS agent back until the host
    is ready, then formats (first boot only) and mounts the data volume."""
    return f"""\
#cloud-boothook
#!/bin/bash
# Mantle: Docker's data volume, and the ECS agent held until this host is ready.
{_fail_closed()}
mkdir -p "$(dirname {ECS_DROP_IN})" "$(dirname {HOST_READY})"
printf '[Unit]\\nConditionPathExists={HOST_READY}\\n' > {ECS_DROP_IN}
systemctl daemon-reload

data_device() {{
  # Nitro hosts show EBS volumes as NVMe disks; Amazon Linux links the mapped name to them.
  # Otherwise: the one EBS disk without partitions or file system besides the root disk.
  for _ in $(seq 60); do
    if [ -b {DATA_DEVICE} ]; then readlink -f {DATA_DEVICE}; return; fi
    found=$(lsblk -dpno NAME,MODEL | grep 'Elastic Block Store' | cut -d' ' -f1 |
      while read -r disk; do
        [ "$(lsblk -no NAME "$disk" | wc -l)" = 1 ] && ! blkid "$disk" >/dev/null && echo "$disk"
      done || true)
    if [ -n "$found" ] && [ "$(echo "$found" | wc -l)" = 1 ]; then echo "$found"; return; fi
    sleep 1
  done
  echo "no data volume at {DATA_DEVICE}" >&2
  return 1
}}

if ! mountpoint -q {DOCKER_STORAGE}; then
  if ! blkid -L {DATA_LABEL} >/dev/null; then
    device=$(data_device)
    mkfs.xfs -q -L {DATA_LABEL} "$device"
  fi
  restart_docker=no
  if systemctl is-active -q docker.service; then
    systemctl stop docker.socket docker.service
    restart_docker=yes
  fi
  mkdir -p {DOCKER_STORAGE}
  mount -o noatime LABEL={DATA_LABEL} {DOCKER_STORAGE}
  if [ "$restart_docker" = yes ]; then systemctl start --no-block docker.service; fi
fi
grep -q 'LABEL={DATA_LABEL} ' {FSTAB} ||
  echo 'LABEL={DATA_LABEL} {DOCKER_STORAGE} xfs noatime,nofail 0 2' >> {FSTAB}
"""


def cli_script(env: EnvironmentPublic) -> str:
    """Runs once per instance: the pinned, checksum-verified CLI, then lets the agent start."""
    prefix = conda_prefix(env.cli_path)
    arches = "\n".join(f"  {arch}) sum={sha} ;;" for arch, sha in MINICONDA_SHA256.items())
    url = MINICONDA_URL.format(version=MINICONDA_VERSION, arch="$arch")
    return f"""\
#!/bin/bash
# Mantle: the AWS CLI at {env.cli_path} (Nextflow's aws.batch.cliPath), then the ECS agent.
{_fail_closed()}
arch=$(uname -m)
case "$arch" in
{arches}
  *) echo "no Miniconda checksum for $arch" >&2; exit 1 ;;
esac
mkdir -p "$(dirname {HOST_READY})"
curl -fsSL --retry 5 --retry-connrefused -o {INSTALLER} "{url}"
echo "$sum  {INSTALLER}" | sha256sum --check --strict -
bash {INSTALLER} -b -f -p {prefix}
rm -f {INSTALLER}
{prefix}/bin/python -m pip install --no-cache-dir --disable-pip-version-check \\
  "awscli=={AWSCLI_VERSION}"
ln -sf {env.cli_path} {CLI_LINK}
{env.cli_path} --version
touch {HOST_READY}
systemctl enable --now --no-block ecs.service
"""


def _part(content_type: str, body: str) -> str:
    return f'--{BOUNDARY}\nContent-Type: {content_type}; charset="us-ascii"\n\n{body}\n'


def user_data(env: EnvironmentPublic) -> str:
    """The MIME multipart user data, as text (`user_data_base64` for the EC2 API)."""
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n'
        "\n"
        + _part("text/cloud-boothook", docker_volume_script())
        + _part("text/x-shellscript", cli_script(env))
        + f"--{BOUNDARY}--\n"
    )


def user_data_base64(env: EnvironmentPublic) -> str:
    return base64.b64encode(user_data(env).encode()).decode()


def block_device_mappings(volume_gib: int | dict) -> list[dict]:
    """Docker's data volume (`volume_gib` may be a CloudFormation reference)."""
    return [
        {
            "DeviceName": DATA_DEVICE,
            "Ebs": {
                "VolumeSize": volume_gib,
                "VolumeType": "gp3",
                "Encrypted": True,
                "DeleteOnTermination": True,
            },
        }
    ]


def launch_template_data(
    env: EnvironmentPublic, tenant: str, volume_gib: int = DEFAULT_DOCKER_VOLUME_GIB
) -> dict:
    """EC2's LaunchTemplateData: the user data, Docker's data volume, IMDSv2, and this
    environment's tags on the instances and volumes."""
    tags = names.tag_list(tenant, env.name)
    return {
        "UserData": user_data_base64(env),
        "BlockDeviceMappings": block_device_mappings(volume_gib),
        "MetadataOptions": METADATA_OPTIONS,
        "TagSpecifications": [{"ResourceType": k, "Tags": tags} for k in ("instance", "volume")],
    }
