"""What every engine of the launcher works with: the run, its directory, a scratch folder
and the log; and the launcher's own error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mantle.launcher.logbook import Logbook, Mirror
from mantle.launcher.run_directory import RunDirectory
from mantle.rundir import TRACE_TSV, OutputFile, RunSpec

# The shell's code for "command not found": the engine's program is missing.
EXIT_ENGINE_MISSING = 127
EXIT_LAUNCHER_ERROR = 1


class LauncherError(Exception):
    """The launcher could not do its part; the message is the one line the user sees."""

    def __init__(self, message: str, *, exit_code: int = EXIT_LAUNCHER_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Context:
    spec: RunSpec
    run_dir: RunDirectory
    scratch: Path
    log: Logbook
    mirror: Mirror | None  # None when the run directory is a local folder
    # Outputs already uploaded and hashed by the engine (script runs on an S3 run directory).
    uploaded: list[OutputFile] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def trace_path(self) -> Path:
        """Where the engine writes its trace: in place for a local run directory, otherwise a
        scratch file the mirror uploads as it grows."""
        if self.run_dir.local is not None:
            return self.run_dir.local / TRACE_TSV
        path = self.scratch / TRACE_TSV
        if self.mirror is not None:
            self.mirror.track(path, TRACE_TSV)
        return path

    def download(self, name: str, dest: Path) -> bool:
        """Copy a run-directory file to `dest`; False when the run directory has none."""
        if not self.run_dir.exists(name):
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as handle:
            for chunk in self.run_dir.store.get(name):
                handle.write(chunk)
        return True
