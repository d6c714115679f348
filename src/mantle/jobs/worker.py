"""The worker: N threads, each claiming jobs of the kinds it knows, running the kind's handler
under a lease kept alive in the background, and recording the outcome.

Handlers are plain functions `handler(context) -> None` (see `mantle.jobs.context`). What
happens when one raises:
- `JobInterrupted`: cancelled or taken over, nothing to record; on shutdown the job is handed
  back at once for another worker to resume from its checkpoint.
- a retryable error (`MantleError.retryable`: AWS throttling, 5xx, network, a database that
  blinked): the job is queued again after a jittered exponential backoff, until the kind's
  `max_attempts`, after which it fails with the last error;
- anything else: the job fails at once with the error's message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, Protocol

from mantle.db.engine import Database
from mantle.db.models import SqlJob
from mantle.errors import MantleError
from mantle.jobs import queue
from mantle.jobs.context import JobContext, JobInterrupted, Lease, LeaseKeeper, S
from mantle.jobs.queue import JobStatus
from mantle.jobs.retry import Backoff, as_mantle_error

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
Handler = Callable[[JobContext[S]], None]


@dataclass(frozen=True)
class JobKind(Generic[S]):
    """A kind of job: its handler and how hard to try."""

    name: str
    handler: Handler[S]
    max_attempts: int = 5
    backoff: Backoff = field(default_factory=Backoff)


class Companion(Protocol):
    """A background loop that lives and dies with the worker (the run monitor)."""

    def start(self) -> object: ...

    def request_stop(self) -> None: ...

    def stop(self, timeout: float | None = 30.0) -> bool: ...


class Worker(Generic[S]):
    def __init__(
        self,
        db: Database,
        kinds: Iterable[JobKind[S]],
        services: S,
        *,
        threads: int = 1,
        lease: timedelta = DEFAULT_LEASE,
        poll_seconds: float = 1.0,
        worker_id: str | None = None,
        companions: Iterable[Companion] = (),
    ) -> None:
        self.db = db
        self.kinds = {kind.name: kind for kind in kinds}
        self.services = services
        self.threads = threads
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self.companions: list[Companion] = list(companions)

    # --- one job ---------------------------------------------------------------------------

    def run_once(self, worker_id: str | None = None) -> bool:
        """Claim and run one job in this thread; False when there was nothing to do.
        `worker_id` names the lease holder (each thread of the worker has its own)."""
        holder = worker_id or self.worker_id
        job = queue.claim(self.db, holder, list(self.kinds), self.lease)
        if job is None:
            return False
        kind = self.kinds[job.kind]
        lease = Lease(self.db, job.id, holder, self.lease, stopping=self._stop)
        if job.attempts > kind.max_attempts:  # earlier attempts died with their workers
            self._finish(lease, JobStatus.failed, error=_abandoned(job))
            return True
        with LeaseKeeper(lease):
            self._run(kind, self._context(job, lease))
        return True

    def _context(self, job: SqlJob, lease: Lease) -> JobContext[S]:
        return JobContext(
            job_id=job.id,
            tenant_id=job.tenant_id,
            created_by=job.created_by,
            attempt=job.attempts,
            payload=dict(job.payload),
            checkpoint=dict(job.checkpoint or {}),
            services=self.services,
            lease=lease,
            progress=dict(job.progress or {}),
        )

    def _run(self, kind: JobKind[S], context: JobContext[S]) -> None:
        lease = context.lease
        try:
            kind.handler(context)
        except JobInterrupted as e:
            log.info("job %s stopped: %s", context.job_id, e)
            if self._stop.is_set():
                queue.release(self.db, context.job_id, lease.worker_id)
            return
        except Exception as raised:
            self._failed(kind, context, as_mantle_error(raised, kind.name))
            return
        self._finish(lease, JobStatus.succeeded, progress=context.progress)

    def _failed(self, kind: JobKind[S], context: JobContext[S], error: MantleError) -> None:
        lease = context.lease
        if not error.retryable:
            self._finish(lease, JobStatus.failed, error=error.message)
        elif context.attempt >= kind.max_attempts:
            message = f"gave up after {context.attempt} attempts: {error.message}"
            self._finish(lease, JobStatus.failed, error=message)
        else:
            delay = kind.backoff.delay(context.attempt)
            log.info("job %s: attempt %d failed (%s); next in %s", context.job_id,
                     context.attempt, error.message, delay)  # fmt: skip
            queue.retry_later(self.db, lease.job_id, lease.worker_id, delay=delay,
                              error=error.message)  # fmt: skip

    def _finish(self, lease: Lease, status: JobStatus, **outcome) -> None:
        queue.finish(self.db, lease.job_id, lease.worker_id, status, **outcome)

    # --- the threads -----------------------------------------------------------------------

    def _loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once(worker_id)
            except MantleError as e:  # e.g. the database is briefly unavailable: retry later
                log.warning("worker %s: %s", worker_id, e.message)
                busy = False
            except Exception:
                log.exception("worker %s: unexpected error; carrying on", worker_id)
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)

    def start(self) -> list[threading.Thread]:
        """Start `threads` loops, each claiming its own jobs under its own lease holder id."""
        log.info("worker %s: %d threads for %s", self.worker_id, self.threads,
                 ", ".join(self.kinds))  # fmt: skip
        for number in range(1, self.threads + 1):
            thread = threading.Thread(
                target=self._loop,
                args=(f"{self.worker_id}/{number}",),
                name=f"mantle-worker-{number}",
                daemon=True,
            )
            thread.start()
            self._running.append(thread)
        for companion in self.companions:
            companion.start()
        return list(self._running)

    def request_stop(self) -> None:
        """Ask the threads to stop without waiting (safe in a signal handler)."""
        self._stop.set()
        for companion in self.companions:
            companion.request_stop()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask every thread to stop and wait for them: running handlers stop at their next
        `report`/`check` and hand their job back. True when all threads have ended."""
        self.request_stop()
        for thread in self._running:
            thread.join(timeout)
        companions_done = all([c.stop(timeout) for c in self.companions])
        return companions_done and not any(t.is_alive() for t in self._running)

    def run_forever(self) -> None:
        """Run the threads until `stop()` (from a signal handler or another thread)."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()


def _abandoned(job: SqlJob) -> str:
    tried = job.attempts - 1
    last = f"; last error: {job.error}" if job.error else ""
    return f"gave up after {tried} attempts that ended without a result (the worker stopped){last}"
