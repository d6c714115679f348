"""A stand-in for `python -m mantle.launcher RUN_DIR_URL` in executor tests: the run dir URL
says what to do.

    ok          print three lines, exit 0
    fail:N      print a line, exit N
    sleep:PATH  start a grandchild `sleep`, write its pid to PATH, wait (to be cancelled)
    env:NAME    print the value of environment variable NAME, exit 0
    stubborn    ignore SIGTERM and wait (only SIGKILL ends it)
"""

import os
import signal
import subprocess
import sys
import time


def main(order: str) -> int:
    action, _, arg = order.partition(":")
    if action == "ok":
        for n in range(3):
            print(f"line {n}", flush=True)
        return 0
    if action == "fail":
        print("about to fail", flush=True)
        return int(arg)
    if action == "sleep":
        grandchild = subprocess.Popen(["sleep", "60"])
        with open(arg + ".tmp", "w") as f:
            f.write(str(grandchild.pid))
        os.replace(arg + ".tmp", arg)
        print("sleeping", flush=True)
        time.sleep(60)
        return 0
    if action == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        time.sleep(60)
        return 0
    if action == "env":
        print(os.environ.get(arg, "<unset>"), flush=True)
        return 0
    print(f"unknown order {order}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
