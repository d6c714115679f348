"""Upload benchmark: a 1 GiB file through `mantle upload` against `aws s3 cp` to the same S3
endpoint (moto's server), in the same run. Goal: ratio (mantle / aws) at most 1.0.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--rounds 2] [--parallel 8,16]

Steps: start moto's server in a process of its own (bench/motoserver.py) with a bucket
`bench-bucket`; start a real Mantle server (`mantle db upgrade`, then `mantle server`, as
tests/live.py does; SQLite in a temporary data directory) whose object store is
`s3://bench-bucket/mantle` on moto, with the admin password set through
`MANTLE_BOOTSTRAP__ADMIN_PASSWORD`; get an API token with `mantle.Client.login`; write a file of
random bytes; then, round after round, alternate `aws s3 cp FILE s3://bench-bucket/baseline.bin
--endpoint-url MOTO` and `mantle upload FILE --type file -q --parallel N` (subprocesses,
`MANTLE_URL`/`MANTLE_TOKEN` in the environment), deleting what each stored before the next. Each
run reports wall time, MB/s, and the CPU seconds of the client process and of moto during it
(2 cores: whatever CPU the client burns is taken from moto). With `--profile DIR`, one more
`mantle upload` runs under py-spy (all threads, idle included) and the hottest frames are
printed. With `--before SRC` (another checkout's `src`, e.g. from `git archive`), a second
Mantle server runs that code (`PYTHONPATH=SRC`, store `s3://bench-bucket/mantle-before`) and
the small-files rounds alternate aws, mantle and mantle-before on the same moto. Everything
started is stopped, and the temporary directory removed, at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from motoserver import Moto, free_port, use_fake_aws_env

from mantle import Client

BUCKET = "bench-bucket"
BIN = Path(sys.executable).parent
MANTLE, AWS, PY_SPY = str(BIN / "mantle"), str(BIN / "aws"), str(BIN / "py-spy")
PASSWORD = "bench-admin-password-0123"
MB = 1_000_000
MiB = 1024 * 1024


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_file(path: Path, size: int) -> float:
    started = time.perf_counter()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = min(left, 16 * MiB)
            f.write(os.urandom(chunk))
            left -= chunk
    with path.open("rb") as f:  # leave it in the page cache: both clients read it from memory
        while f.read(64 * MiB):
            pass
    return time.perf_counter() - started


def start_mantle(
    work: Path, moto: Moto, name: str = "mantle", src: Path | None = None
) -> tuple[subprocess.Popen, str, dict]:
    """A Mantle server storing under `s3://BUCKET/{name}`; with `src`, running that code."""
    port = free_port()
    env = {
        **os.environ,
        **({"PYTHONPATH": str(src.resolve())} if src else {}),
        "MANTLE_DATA_DIR": str(work / name),
        "MANTLE_SERVER__PORT": str(port),
        "MANTLE_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        "MANTLE_STORAGE__ROOT": f"s3://{BUCKET}/{name}",
        "MANTLE_STORAGE__S3_ENDPOINT_URL": moto.endpoint_url,
        "MANTLE_STORAGE__S3_REGION": "us-east-1",
        "MANTLE_BOOTSTRAP__ADMIN_PASSWORD": PASSWORD,
        "MANTLE_CONFIG_DIR": str(work / f"{name}-config"),  # the CLI's resume state
        "NO_COLOR": "1",
    }
    (work / name).mkdir()
    subprocess.run([MANTLE, "db", "upgrade"], env=env, check=True, capture_output=True)
    log_file = (work / f"{name}-server.log").open("w")
    process = subprocess.Popen([MANTLE, "server"], env=env, stdout=log_file,
                               stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((work / f"{name}-server.log").read_text())
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url, env
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError((work / f"{name}-server.log").read_text())


def timed(command: list[str], env: dict, moto_pid: int) -> dict:
    """Run `command`; wall seconds, its CPU seconds (user + sys, children included) and moto's."""
    moto_before = cpu_seconds(moto_pid)
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read().decode(), stderr.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}):\n{out}\n{err}")
    return {
        "seconds": seconds,
        "client_cpu": usage.ru_utime + usage.ru_stime,
        "moto_cpu": cpu_seconds(moto_pid) - moto_before,
        "output": out.strip(),
    }


def clear_bucket(s3, prefix: str = "") -> int:
    """Delete every object (and unfinished multipart upload) under `prefix`."""
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
            deleted += 1
    for upload in s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    return deleted


def stored_size(s3, prefix: str) -> int:
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sum(o["Size"] for o in page.get("Contents", []))


def profile_upload(path: Path, env: dict, target: Path, parallel: int) -> None:
    """`mantle upload` under py-spy (raw collapsed stacks, every thread, idle included)."""
    target.mkdir(parents=True, exist_ok=True)
    raw = target / "mantle_upload.txt"
    command = [PY_SPY, "record", "--idle", "--threads", "--rate", "200", "--format", "raw",
               "-o", str(raw), "--", MANTLE, "upload", str(path), "--type", "file", "-q",
               "--parallel", str(parallel)]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True)
    summarize_profile(raw, parallel)


def summarize_profile(raw: Path, parallel: int) -> None:
    """Where the upload's threads spend their samples: a few buckets by frame."""
    buckets = {  # first match wins; py-spy shows the Python line running a C call
        "argon2 hash at import (accounts/secrets.py)": re.compile(r"argon2"),
        "start-up: imports": re.compile(r"importlib\._bootstrap"),
        "main: POST .../complete (server assembles the object)": re.compile(
            r"Uploads\.upload \(mantle/client/_uploads\.py:7[1-3]\)"
        ),
        "main: other API calls (start, urls)": re.compile(r"Http\.request"),
        "pread of the part (_transfer.py:79)": re.compile(r"_transfer\.py:79\)$"),
        "md5 of the part (_transfer.py:80)": re.compile(r"_transfer\.py:80\)$"),
        "httpx PUT: sending the body": re.compile(r"_send_request_body"),
        "httpx: waiting for the response": re.compile(r"_receive_response_headers|_receive_event"),
        "httpx: connect / close": re.compile(r"_connect|\.close \("),
        "idle worker (no part queued)": re.compile(
            r"_worker \(concurrent/futures/thread\.py:\d+\)$"
        ),
        "main: waiting for parts (Future.result)": re.compile(r"Future\.result|_send \(mantle"),
        "thread start/stop": re.compile(r"Thread\.start|Thread\.join|shutdown"),
        "start-up: typer/click (command set-up)": re.compile(
            r"\((typer|click)/[^;]*\)$|"
            r"get_type_hints|inspect\.py"
        ),
    }
    per_thread: dict[str, Counter] = {}
    totals: Counter = Counter()
    leaves: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        thread = stack.split(";", 1)[0]
        kind = "worker" if "ThreadPoolExecutor" in thread else "main"
        label = next((name for name, rx in buckets.items() if rx.search(stack)), "other")
        per_thread.setdefault(kind, Counter())[label] += n
        totals[kind] += n
        leaves[stack.rsplit(";", 1)[-1]] += n
    print(f"py-spy of `mantle upload --parallel {parallel}` (samples at 200 Hz, every thread, "
          f"idle included; raw stacks in {raw}):")  # fmt: skip
    for kind, counter in per_thread.items():
        print(f"  {kind} thread(s): {totals[kind]:,} samples")
        for label, n in counter.most_common():
            print(f"    {label:45} {100 * n / totals[kind]:5.1f} %")
    print("  hottest leaf frames (all threads):")
    everything = sum(leaves.values())
    for frame, n in leaves.most_common(12):
        print(f"    {100 * n / everything:5.1f} %  {frame[:110]}")


def upload_phases(url: str, token: str, path: Path, parallel: int, moto_pid: int) -> dict:
    """One SDK upload in this process with its phases timed (wall and moto CPU): start (plan,
    multipart uploads created), parts (CRC32s, URLs, PUTs), complete (the server lists and
    assembles the parts and creates the dataset)."""
    from mantle.client._uploads import Uploads

    marks: list[tuple[str, float, float]] = []

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter(), cpu_seconds(moto_pid)))

    original_start, original_send = Uploads._start, Uploads._send

    def start(self, *args, **kwargs):
        result = original_start(self, *args, **kwargs)
        mark("start")
        return result

    def send(self, *args, **kwargs):
        result = original_send(self, *args, **kwargs)
        mark("parts")
        return result

    Uploads._start, Uploads._send = start, send
    try:
        with Client(url, token) as client:
            mark("begin")
            client.uploads.upload([path], data_type="file", parallel=parallel)
            mark("complete")
    finally:
        Uploads._start, Uploads._send = original_start, original_send
    return {
        name: (at - marks[i][1], cpu - marks[i][2]) for i, (name, at, cpu) in enumerate(marks[1:])
    }


def small_files(work: Path, envs: dict[str, dict], s3, moto: Moto, count: int, rounds: int) -> None:
    """A folder of `count` small files: `aws s3 cp --recursive` against `mantle upload DIR`
    (one dataset of type `directory`) on each server of `envs` (store prefix -> environment),
    alternating, `rounds` times each."""
    folder = work / "small"
    folder.mkdir()
    for i in range(count):
        (folder / f"sample_{i:05d}.txt").write_bytes(os.urandom(4096))
    aws = [AWS, "s3", "cp", str(folder), f"s3://{BUCKET}/small/", "--recursive",
           "--endpoint-url", moto.endpoint_url, "--only-show-errors"]  # fmt: skip
    # --duplicate: every round stores the folder again (not found as already uploaded).
    mantle = [MANTLE, "upload", str(folder), "--type", "directory", "-q", "--json", "--duplicate"]
    aws_name = "aws s3 cp --recursive"
    times: dict[str, list[dict]] = {aws_name: [], **{f"mantle upload DIR ({n})": [] for n in envs}}
    for _ in range(rounds):
        times[aws_name].append(timed(aws, envs["mantle"], moto.process.pid))
        clear_bucket(s3, "small/")
        for name, env in envs.items():
            result = timed(mantle, env, moto.process.pid)
            assert len(json.loads(result["output"])["files"]) == count
            times[f"mantle upload DIR ({name})"].append(result)
            clear_bucket(s3, f"{name}/")
    baseline = min(r["seconds"] for r in times[aws_name])
    print(f"{count} files of 4 KiB, {rounds} rounds (wall s; moto CPU s):")
    for name, runs in times.items():
        best = min(r["seconds"] for r in runs)
        shown = ", ".join(f"{r['seconds']:.1f} ({r['moto_cpu']:.1f})" for r in runs)
        print(f"  {name}: {shown}; best {best:.1f} s ({best / baseline:.2f}x aws)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parallel", default="8,16", help="mantle upload --parallel values")
    parser.add_argument("--profile", type=Path, help="also profile one mantle upload (py-spy)")
    parser.add_argument(
        "--phases", action="store_true", help="also time the phases of SDK uploads in-process"
    )
    parser.add_argument(
        "--small-files",
        type=int,
        default=0,
        help="also upload a folder of this many 4 KiB files (aws s3 cp --recursive vs mantle)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout's src/: the small-files rounds also run a server of that code",
    )
    args = parser.parse_args()
    parallels = [int(p) for p in args.parallel.split(",")]
    use_fake_aws_env()
    work = Path(tempfile.mkdtemp(prefix="mantle_bench_upload_"))
    moto = server = before = None
    try:
        moto = Moto("process", work)
        s3 = moto.client()
        s3.create_bucket(Bucket=BUCKET)
        server, url, env = start_mantle(work, moto)
        token = Client.login(url, "admin@example.com", PASSWORD, token_name="bench").token
        env = {**env, "MANTLE_URL": url, "MANTLE_TOKEN": token}
        log(f"moto at {moto.endpoint_url} (pid {moto.process.pid}); mantle at {url}")
        path = work / f"random-{args.size_mib}MiB.bin"
        size = args.size_mib * MiB
        log(f"writing {size / MiB:.0f} MiB of random bytes: {make_file(path, size):.1f} s")
        aws = [AWS, "s3", "cp", str(path), f"s3://{BUCKET}/baseline.bin",
               "--endpoint-url", moto.endpoint_url, "--only-show-errors"]  # fmt: skip
        runs: dict[str, list[dict]] = {}
        for round_ in range(1, args.rounds + 1):
            result = timed(aws, env, moto.process.pid)
            assert stored_size(s3, "baseline.bin") == size
            clear_bucket(s3, "baseline.bin")
            runs.setdefault("aws s3 cp", []).append(result)
            log(f"round {round_}: aws s3 cp {result['seconds']:.1f} s")
            for parallel in parallels:
                command = [MANTLE, "upload", str(path), "--type", "file", "-q", "--json",
                           "--parallel", str(parallel), "--duplicate"]  # fmt: skip
                result = timed(command, env, moto.process.pid)
                dataset = json.loads(result["output"])
                assert dataset["files"][0]["size"] == size, dataset
                assert stored_size(s3, "mantle/") == size
                clear_bucket(s3, "mantle/")
                runs.setdefault(f"mantle upload --parallel {parallel}", []).append(result)
                log(f"round {round_}: mantle upload --parallel {parallel} "
                    f"{result['seconds']:.1f} s ({dataset['short_id']})")  # fmt: skip
        startup = {
            "aws --version": timed([AWS, "--version"], env, moto.process.pid)["seconds"],
            "mantle --help": timed([MANTLE, "--help"], env, moto.process.pid)["seconds"],
        }
        report(size, runs, startup)
        if args.small_files:
            print()
            envs = {"mantle": env}
            if args.before:
                before, before_url, before_env = start_mantle(
                    work, moto, "mantle-before", args.before
                )
                before_token = Client.login(
                    before_url, "admin@example.com", PASSWORD, token_name="bench"
                ).token
                envs["mantle-before"] = {
                    **before_env,
                    "MANTLE_URL": before_url,
                    "MANTLE_TOKEN": before_token,
                }
            small_files(work, envs, s3, moto, args.small_files, args.rounds)
        if args.phases:
            print()
            print("| SDK upload phases, wall s (moto CPU s) | " + " | ".join(
                f"--parallel {p}" for p in parallels) + " |")  # fmt: skip
            print("|---|" + "---|" * len(parallels))
            timings = []
            for parallel in parallels:
                timings.append(upload_phases(url, token, path, parallel, moto.process.pid))
                clear_bucket(s3, "mantle/")
            for phase in timings[0]:
                cells = " | ".join(f"{t[phase][0]:.2f} ({t[phase][1]:.1f})" for t in timings)
                print(f"| {phase} | {cells} |")
        if args.profile:
            print()
            profile_upload(path, env, args.profile, parallels[0])
            clear_bucket(s3, "mantle/")
    finally:
        for process in (server, before):
            if process is not None:
                process.terminate()
                process.wait(timeout=15)
        if moto is not None:
            moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(size: int, runs: dict[str, list[dict]], startup: dict[str, float]) -> None:
    baseline = min(r["seconds"] for r in runs["aws s3 cp"])
    print()
    print(f"{size / MiB:.0f} MiB of random bytes to moto's S3 (separate process), "
          f"{len(runs['aws s3 cp'])} rounds, alternating")  # fmt: skip
    print()
    print("| client | runs (s) | best (s) | MB/s (best) | ratio to aws (best) | "
          "client CPU s (mean) | moto CPU s (mean) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, results in runs.items():
        best = min(r["seconds"] for r in results)
        verdict = "" if name.startswith("aws") else (
            " (goal met)" if best <= baseline else " (misses 1.0)")  # fmt: skip
        times = ", ".join(f"{r['seconds']:.1f}" for r in results)
        print(f"| {name} | {times} | {best:.1f} | "
              f"{size / MB / best:.0f} | {best / baseline:.2f}{verdict} | "
              f"{statistics.fmean(r['client_cpu'] for r in results):.1f} | "
              f"{statistics.fmean(r['moto_cpu'] for r in results):.1f} |")  # fmt: skip
    print()
    print("process start-up alone: " + ", ".join(f"`{k}` {v:.2f} s" for k, v in startup.items()))


if __name__ == "__main__":
    main()
