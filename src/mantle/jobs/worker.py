"""The worker loop: claims jobs, runs the handler registered for their kind, keeps the lease
alive with heartbeats that carry progress and checkpoints, and records the outcome.

Handlers are plain functions `handler(context) -> None`; they read `context.payload` and
`context.checkpoint`, call `context.report(progress, checkpoint)` as they go (which raises
`JobInterrupted` when the job was cancelled or taken over), and raise a MantleError for a
failure the user can act on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from mantle.db.engine import Database
from mantle.errors import MantleError
from mantle.jobs import queue
from mantle.jobs.queue import JobStatus

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)


class JobInterrupted(Exception):
    """The job was cancelled, or another worker took it over after our lease lapsed."""


@dataclass
class JobContext:
    db: Database
    job_id: uuid.UUID
    tenant_id: uuid.UUID
    created_by: uuid.UUID | None
    payload: dict[str, Any]
    checkpoint: dict[str, Any]
    worker_id: str
    lease: timedelta
    services: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)

    def report(self, progress: dict[str, Any], checkpoint: dict[str, Any] | None = None) -> None:
        self.progress = progress
        if checkpoint is not None:
            self.checkpoint = checkpoint
        alive = queue.heartbeat(
            self.db,
            self.job_id,
            self.worker_id,
            self.lease,
            progress=progress,
            checkpoint=checkpoint,
        )
        if not alive:
            raise JobInterrupted()


Handler = Callable[[JobContext], None]


class Worker:
    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        *,
        services: dict[str, Any] | None = None,
        lease: timedelta = DEFAULT_LEASE,
        poll_seconds: float = 1.0,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.services = services or {}
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        job = queue.claim(self.db, self.worker_id, list(self.handlers), self.lease)
        if job is None:
            return False
        context = JobContext(
            db=self.db,
            job_id=job.id,
            tenant_id=job.tenant_id,
            created_by=job.created_by,
            payload=dict(job.payload),
            checkpoint=dict(job.checkpoint or {}),
            worker_id=self.worker_id,
            lease=self.lease,
            services=self.services,
            progress=dict(job.progress or {}),
        )
        self._run(job.kind, context)
        return True

    def _run(self, kind: str, context: JobContext) -> None:
        try:
            self.handlers[kind](context)
        except JobInterrupted:
            log.info("job %s stopped: cancelled or taken over", context.job_id)
            return
        except MantleError as e:
            queue.finish(self.db, context.job_id, self.worker_id, JobStatus.failed, error=e.message)
            return
        except Exception:
            log.exception("job %s (%s) crashed", context.job_id, kind)
            queue.finish(
                self.db,
                context.job_id,
                self.worker_id,
                JobStatus.failed,
                error="internal error; the worker log has the details",
            )
            return
        queue.finish(
            self.db, context.job_id, self.worker_id, JobStatus.succeeded, progress=context.progress
        )

    def run_forever(self) -> None:
        log.info("worker %s started for %s", self.worker_id, ", ".join(self.handlers))
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except MantleError as e:  # e.g. database briefly unavailable: retry later
                log.warning("worker: %s", e.message)
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="mantle-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
