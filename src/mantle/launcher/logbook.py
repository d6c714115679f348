"""launcher.log, and the mirror that copies growing local files into an S3 run directory.

Every line goes to the log file and to stdout (on Batch, stdout is the CloudWatch stream the
platform shows). For a `file://` run directory the log file is the run directory's own
`launcher.log`, appended line by line; for `s3://` it is a local file that `Mirror` uploads
every few seconds and once more at the end, together with the engine's trace file, so the
monitor sees progress while the run goes and everything once it is over.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from mantle.errors import MantleError
from mantle.storage import ObjectStore

SYNC_SECONDS_VARIABLE = "MANTLE_LAUNCHER_SYNC_SECONDS"
DEFAULT_SYNC_SECONDS = 5.0
RECENT_LINES = 500
PREFIX = "launcher: "
ERROR_PREFIX = "launcher: error: "


class Logbook:
    """The launcher's log: its own lines start with `launcher: `, the engine's are kept as
    they are. Safe to use from several threads."""

    def __init__(self, path: Path, *, echo: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8", errors="replace", buffering=1)
        self._echo = echo
        self._lock = threading.Lock()
        self.path = path
        self.recent: deque[str] = deque(maxlen=RECENT_LINES)  # the engine's last lines

    def write(self, line: str) -> None:
        line = line.rstrip("\r\n")
        with self._lock:
            if not line.startswith(PREFIX):
                self.recent.append(line)
            self._file.write(line + "\n")
            if self._echo:
                print(line, flush=True)

    def info(self, message: str) -> None:
        self.write(PREFIX + message)

    def error(self, message: str) -> None:
        """The one-line reason the monitor shows when the launcher itself failed."""
        self.write(ERROR_PREFIX + " ".join(message.split()))

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass
class _Tracked:
    path: Path
    key: str
    last: tuple[int, int] | None = None  # (size, mtime_ns) last uploaded


class Mirror:
    """Uploads local files to keys of a store whenever they have changed, from a thread."""

    def __init__(self, store: ObjectStore, *, interval: float | None = None) -> None:
        if interval is None:
            interval = float(os.environ.get(SYNC_SECONDS_VARIABLE) or DEFAULT_SYNC_SECONDS)
        self._store = store
        self._interval = max(interval, 0.1)
        self._files: list[_Tracked] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def track(self, path: Path, key: str) -> None:
        with self._lock:
            self._files.append(_Tracked(path, key))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mirror", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sync()
            except MantleError as e:  # the next round (or the final sync) tries again
                print(f"{PREFIX}could not upload the log yet: {e}", file=sys.stderr, flush=True)

    def sync(self) -> None:
        with self._lock:
            for tracked in self._files:
                try:
                    st = tracked.path.stat()
                except FileNotFoundError:
                    continue
                state = (st.st_size, st.st_mtime_ns)
                if state == tracked.last:
                    continue
                with open(tracked.path, "rb") as handle:
                    self._store.put(tracked.key, handle, content_type="text/plain")
                tracked.last = state

    def close(self) -> None:
        """Stop the thread and upload what changed since its last round."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sync()
