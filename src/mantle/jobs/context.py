"""What a job handler gets (`JobContext`): the job's payload and checkpoint, the platform's
services (typed by the handler, e.g. `JobContext[ImportServices]`), and `report` to save
progress. While the handler runs, a `LeaseKeeper` thread renews the lease, so a handler may
spend longer than one lease in a single call (a slow AWS request) without losing its job.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from mantle.db.engine import Database
from mantle.errors import MantleError
from mantle.jobs import queue

log = logging.getLogger(__name__)

S = TypeVar("S")


class JobInterrupted(Exception):
    """The job was cancelled, another worker took it over after our lease lapsed, or this
    worker is shutting down. Handlers let it propagate."""


@dataclass
class Lease:
    """This worker's hold on one job."""

    db: Database
    job_id: uuid.UUID
    worker_id: str
    duration: timedelta
    stopping: threading.Event
    lost: threading.Event = field(default_factory=threading.Event)

    def renew(self, **saved: Any) -> None:
        """Extend the lease (saving `progress`/`checkpoint` if given), or mark it lost."""
        if not queue.heartbeat(self.db, self.job_id, self.worker_id, self.duration, **saved):
            self.lost.set()

    def check(self) -> None:
        if self.lost.is_set():
            raise JobInterrupted("the job was cancelled or taken over by another worker")
        if self.stopping.is_set():
            raise JobInterrupted("the worker is shutting down")


@dataclass
class JobContext(Generic[S]):
    job_id: uuid.UUID
    tenant_id: uuid.UUID
    created_by: uuid.UUID | None
    attempt: int
    payload: dict[str, Any]
    checkpoint: dict[str, Any]
    services: S
    lease: Lease = field(repr=False)
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.lease.db

    def report(self, progress: dict[str, Any], checkpoint: dict[str, Any] | None = None) -> None:
        """Save progress (and where to resume); raises `JobInterrupted` when the job must stop."""
        self.progress = progress
        if checkpoint is not None:
            self.checkpoint = checkpoint
        self.lease.renew(progress=progress, checkpoint=checkpoint)
        self.lease.check()

    def check(self) -> None:
        """For handlers between steps: raises `JobInterrupted` when the job must stop."""
        self.lease.check()


class LeaseKeeper:
    """Renews a lease every third of its duration until closed, in a thread of its own."""

    def __init__(self, lease: Lease) -> None:
        self._lease = lease
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mantle-lease-{lease.job_id}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self._lease.duration.total_seconds() / 3
        while not self._done.wait(interval) and not self._lease.lost.is_set():
            try:
                self._lease.renew()
            except MantleError as e:  # the database blinked: the next renewal may succeed
                log.warning("job %s: could not renew the lease: %s", self._lease.job_id, e.message)
