"""moto's S3 server on 127.0.0.1 for the benchmarks, in a process of its own (default) or as a
thread of the benchmark's process (`ThreadedMotoServer`, as tests/aws.py runs it).

A separate process is the default: moto answers every request in Python, so in-process it
would share the benchmark's GIL, and its CPU time would be charged to whatever the benchmark
is timing (the import's worker, the upload's client). The child is `python -m moto.server`
(same app, same threaded werkzeug server), started through this file so that it can first
put objects straight into moto's S3 backend (`seed_pairs`): the same `put_object` moto runs
for an HTTP PUT, minus the HTTP. Seeding 100,000 objects over HTTP runs at about 200 puts/s
on the 2-core reference machine (~8 minutes, whatever the number of client threads: moto is
the bottleneck), directly at several thousand per second.

    python bench/motoserver.py --port 5000 [--seed BUCKET PREFIX PAIRS]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REGION = "us-east-1"
BODY = b"@r1\nACGT\n+\nIIII\n"  # a tiny fastq record
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Never read the developer's ~/.aws files.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS")  # fmt: skip


def use_fake_aws_env() -> None:
    """Fake credentials and no AWS config for this process and its children."""
    for name in UNSET_AWS_ENV:
        os.environ.pop(name, None)
    os.environ.update(FAKE_AWS_ENV)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pair_keys(prefix: str, pairs: int):
    for i in range(pairs):
        for read in ("R1", "R2"):
            yield f"{prefix}S{i:06d}_{read}_001.fastq.gz"


def seed_backend(bucket: str, prefix: str, pairs: int) -> None:
    """Create `bucket` and put 2 x `pairs` tiny objects through moto's S3 backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, REGION)
    for key in pair_keys(prefix, pairs):
        backend.put_object(bucket, key, BODY)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Moto:
    """A running moto server: `.endpoint_url`, `.client()`, `.stop()`."""

    def __init__(self, mode: str = "process", log_dir: Path | None = None,
                 seed: tuple[str, str, int] | None = None) -> None:  # fmt: skip
        self.mode = mode
        self.process: subprocess.Popen | None = None
        self.thread_server = None
        started = time.perf_counter()
        if mode == "process":
            port = free_port()
            log_path = (log_dir or Path("/tmp")) / f"moto-{port}.log"
            self.log_path = log_path
            command = [sys.executable, __file__, "--port", str(port)]
            if seed:
                command += ["--seed", seed[0], seed[1], str(seed[2])]
            with log_path.open("w") as log_file:
                self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            self.endpoint_url = f"http://127.0.0.1:{port}"
        else:
            from moto.server import ThreadedMotoServer

            if seed:
                seed_backend(*seed)
            self.thread_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.thread_server.start()
            host, port = self.thread_server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        self._wait(started)
        self.startup_seconds = time.perf_counter() - started

    def _wait(self, started: float, timeout: float = 900) -> None:
        import httpx

        while time.perf_counter() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"moto exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.endpoint_url}/moto-api/", timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto did not start")

    def client(self, service: str = "s3", **config):
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        ).client(
            service, endpoint_url=self.endpoint_url,
            config=Config(s3={"addressing_style": "path"}, **config),
        )  # fmt: skip

    def rss_mib(self) -> float:
        return rss_mib(self.process.pid if self.process else os.getpid())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.thread_server is not None:
            self.thread_server.stop()
            self.thread_server = None


def main() -> None:
    parser = argparse.ArgumentParser(description="moto's server, optionally pre-seeded")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", nargs=3, metavar=("BUCKET", "PREFIX", "PAIRS"))
    args = parser.parse_args()
    use_fake_aws_env()
    if args.seed:
        started = time.perf_counter()
        seed_backend(args.seed[0], args.seed[1], int(args.seed[2]))
        print(f"seeded {2 * int(args.seed[2])} objects in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
    from moto import server

    server.main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
