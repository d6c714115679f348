"""When a failed job is tried again: sorting a handler's exception into Mantle's error tree
(retryable or permanent), and the jittered exponential backoff between attempts."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import OperationalError

from mantle.aws.errors import cloud_error
from mantle.errors import MantleError, ServiceUnavailableError

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal error; the worker log has the details"


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 after attempt n failed: `base * 2**(n-1)`, capped, with "equal
    jitter" (a random half of it) so jobs that failed together do not come back together."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(minutes=10)

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return ceiling * (rng or random).uniform(0.5, 1.0)


def as_mantle_error(error: Exception, kind: str) -> MantleError:
    """The error a job failed with, translated at the worker boundary: AWS errors sorted by
    `mantle.aws.errors` (throttling, 5xx and network errors retryable), a lost database
    connection retryable, anything unexpected permanent with a generic message (and logged,
    since its text may hold anything)."""
    if isinstance(error, MantleError):
        return error
    if isinstance(error, ClientError | BotoCoreError):
        return cloud_error(error, f"running the {kind} job")
    if isinstance(error, OperationalError):
        return ServiceUnavailableError("the database is unavailable; the job will try again")
    log.error("job of kind %s crashed", kind, exc_info=error)
    return MantleError(INTERNAL_ERROR)
