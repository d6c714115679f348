"""CLI start-up benchmark: how long `mantle --help` and `mantle <group> --help` take, next to
the floor any Python CLI pays (`python -c pass`) and a bare Typer import, in the same run.

    .venv/bin/python bench/cli_startup.py [--runs 20] [--before OLD_SRC]

Each command runs `--runs` times as a fresh process, interleaved (so a busy machine slows
every command alike); the table shows the median and the fastest wall-clock run, each median
minus the `python -c pass` floor, and the median CPU time (user + system), which a busy
machine disturbs far less than wall-clock time. A `python -X importtime` summary of
`mantle --help` follows: the modules that cost most. `--before DIR` also times `--help` of
another source tree's `src/` (e.g. `git archive <commit> src | tar -x -C /tmp/old`), for a
before/after in one run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
MANTLE = str(Path(PYTHON).with_name("mantle"))
HEAVY = ("httpx", "pydantic", "rich", "sqlalchemy", "boto3", "fastapi")

COMMANDS = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "python -c 'import typer'": [PYTHON, "-c", "import typer"],
    "mantle --help": [MANTLE, "--help"],
    "mantle datasets --help": [MANTLE, "datasets", "--help"],
    "mantle upload --help": [MANTLE, "upload", "--help"],
    "mantle aws --help": [MANTLE, "aws", "--help"],
    "python -c 'import mantle.client'": [PYTHON, "-c", "import mantle.client"],
}


def from_source(src: str, *args: str) -> list[str]:
    """`mantle ARGS` run from the `mantle` package under `src` instead of the installed one."""
    code = (
        f"import sys; sys.path.insert(0, {src!r}); sys.argv = ['mantle', *{list(args)!r}]\n"
        "from mantle.cli.main import main\nmain()"
    )
    return [PYTHON, "-c", code]


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def time_once(argv: list[str]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one run; CPU time barely moves on a busy machine."""
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start, _cpu() - cpu


def heavy_modules_loaded() -> list[str]:
    """Which heavy packages `mantle --help` imports (should be none)."""
    code = (
        "import sys; sys.argv = ['mantle', '--help']\n"
        "from mantle.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    return done.stderr.split()


def import_profile(top: int = 8) -> list[tuple[int, str]]:
    """The slowest top-level imports of `mantle --help` (cumulative microseconds)."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", MANTLE, "--help"], capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if not name.startswith("  "):  # direct imports only (indentation = depth)
                rows.append((int(parts[1]), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", metavar="SRC", help="another tree's src/ to compare with")
    args = parser.parse_args()
    if args.before:
        COMMANDS["mantle --help (before)"] = from_source(args.before, "--help")
        COMMANDS["mantle datasets --help (before)"] = from_source(args.before, "datasets", "--help")
    for argv in COMMANDS.values():  # warm the file cache and .pyc files
        time_once(argv)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(time_once(argv))
    floor = statistics.median(wall for wall, _cpu in times["python -c pass"])
    print(f"{'command':36} {'median':>8} {'fastest':>8} {'above python':>13} {'CPU median':>11}")
    for name, runs in times.items():
        median = statistics.median(wall for wall, _cpu in runs)
        fastest = min(wall for wall, _cpu in runs)
        cpu = statistics.median(cpu for _wall, cpu in runs)
        print(
            f"{name:36} {median * 1000:6.0f}ms {fastest * 1000:6.0f}ms "
            f"{(median - floor) * 1000:11.0f}ms {cpu * 1000:9.0f}ms"
        )
    print(f"\nheavy packages loaded by `mantle --help`: {heavy_modules_loaded() or 'none'}")
    print("slowest direct imports of `mantle --help` (cumulative):")
    for micros, name in import_profile():
        print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
