"""The hosts' user data scripts, run for real with bash: system commands (curl, systemctl,
shutdown, lsblk...) are stand-ins that log their calls, and every path the scripts touch is
moved under a temporary folder. A broken step must keep the host out of the Batch queue."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from mantle.cloud.aws import userdata
from tests.aws_env.conftest import env_public

FAKE_INSTALLER = """\
#!/bin/bash
# stands in for Miniconda's installer: -b -f -p PREFIX
prefix=$4
mkdir -p "$prefix/bin"
printf '#!/bin/bash\\necho "pip $*" >> "$CALLS"\\n' > "$prefix/bin/python"
printf '#!/bin/bash\\necho "aws-cli/1.x"\\n' > "$prefix/bin/aws"
chmod +x "$prefix/bin/python" "$prefix/bin/aws"
"""


def stand_in(bin_dir: Path, name: str, body: str = "") -> None:
    path = bin_dir / name
    path.write_text(f'#!/bin/bash\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(0o755)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A fake host: stand-in commands first on PATH, the scripts' paths under tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("systemctl", "shutdown", "mkfs.xfs", "mount", "sleep", "tee"):
        stand_in(bin_dir, name, "cat" if name == "tee" else "")  # tee: not to the console
    # curl writes only where -o says (a path under tmp_path); without -o it fails.
    write_installer = f"cat > \"$2\" <<'EOF'\n{FAKE_INSTALLER}EOF"
    find_output = 'while [ $# -gt 0 ] && [ "$1" != -o ]; do shift; done\n[ $# -ge 2 ] || exit 2'
    stand_in(bin_dir, "curl", f"{find_output}\n{write_installer}")
    for name, path in {
        "HOST_READY": "var/lib/mantle/host-ready",
        "ECS_DROP_IN": "etc/ecs.service.d/mantle-ready.conf",
        "FSTAB": "etc/fstab",
        "INSTALLER": "tmp/miniconda.sh",
        "CLI_LINK": "usr/local/bin/aws",
        "DOCKER_STORAGE": "var/lib/docker",
        "DATA_DEVICE": "dev/xvdba",
    }.items():
        monkeypatch.setattr(userdata, name, str(tmp_path / path))
    for folder in ("etc", "tmp", "usr/local/bin"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "etc/fstab").write_text("")
    return tmp_path


def run(host: Path, script: str) -> tuple[subprocess.CompletedProcess, str]:
    path = host / "script.sh"
    path.write_text(script)
    calls = host / "calls.log"
    env = {**os.environ, "PATH": f"{host / 'bin'}:{os.environ['PATH']}", "CALLS": str(calls)}
    # Run in the fake host's folder: a relative path the script writes lands in tmp_path.
    done = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env, cwd=host)
    return done, calls.read_text() if calls.exists() else ""


def pin_installer(monkeypatch) -> None:
    digest = hashlib.sha256(FAKE_INSTALLER.encode()).hexdigest()
    monkeypatch.setattr(userdata, "MINICONDA_SHA256", {os.uname().machine: digest})


def test_the_cli_is_installed_then_the_agent_may_start(host, monkeypatch) -> None:
    pin_installer(monkeypatch)
    env = env_public(cli_path=f"{host}/miniconda/bin/aws")
    done, calls = run(host, userdata.cli_script(env))
    assert done.returncode == 0, done.stderr
    assert (
        f"pip install --no-cache-dir --disable-pip-version-check awscli=={userdata.AWSCLI_VERSION}"
        in calls.replace("-m ", "")
    )
    assert Path(userdata.CLI_LINK).resolve() == Path(env.cli_path)
    assert Path(userdata.HOST_READY).exists()
    assert calls.rstrip().endswith("systemctl enable --now --no-block ecs.service")
    assert "shutdown" not in calls


def test_a_tampered_installer_keeps_the_host_out_of_the_queue(host, monkeypatch) -> None:
    monkeypatch.setattr(userdata, "MINICONDA_SHA256", {os.uname().machine: "0" * 64})
    env = env_public(cli_path=f"{host}/miniconda/bin/aws")
    done, calls = run(host, userdata.cli_script(env))
    assert done.returncode != 0
    assert userdata.FAILURE_BANNER in done.stderr
    assert not Path(env.cli_path).exists() and not Path(userdata.HOST_READY).exists()
    assert "systemctl stop --no-block ecs.service" in calls and "shutdown -h now" in calls
    assert "enable" not in calls


def test_a_missing_data_volume_shuts_the_host_down(host) -> None:
    stand_in(host / "bin", "mountpoint", "exit 1")
    stand_in(host / "bin", "blkid", "exit 2")
    stand_in(host / "bin", "lsblk")  # no disk at all
    done, calls = run(host, userdata.docker_volume_script())
    assert done.returncode != 0
    assert userdata.FAILURE_BANNER in done.stderr and "no data volume" in done.stderr
    # The agent is held back by the drop-in, and the host goes down.
    assert f"ConditionPathExists={userdata.HOST_READY}" in Path(userdata.ECS_DROP_IN).read_text()
    assert "mkfs" not in calls and "shutdown -h now" in calls


def test_the_data_volume_is_formatted_once_and_mounted(host) -> None:
    device = Path(userdata.DATA_DEVICE)
    device.parent.mkdir(parents=True)
    stand_in(host / "bin", "mountpoint", "exit 1")
    stand_in(host / "bin", "blkid", "exit 2")  # no file system yet
    stand_in(host / "bin", "readlink", f"echo {device}")
    script = userdata.docker_volume_script().replace("[ -b ", "[ -e ")  # no block device here
    device.write_text("")
    done, calls = run(host, script)
    assert done.returncode == 0, done.stderr
    assert f"mkfs.xfs -q -L {userdata.DATA_LABEL} {device}" in calls
    assert f"mount -o noatime LABEL={userdata.DATA_LABEL} {userdata.DOCKER_STORAGE}" in calls
    assert (
        f"LABEL={userdata.DATA_LABEL} {userdata.DOCKER_STORAGE} xfs"
        in Path(userdata.FSTAB).read_text()
    )
    assert "shutdown" not in calls
