"""Background work: a job table in the database, claimed under a lease by workers.

The embedded deployment runs worker threads inside the server; production runs `mantle
worker` processes, as many as wanted, each with `MANTLE_WORKER__THREADS` threads. Workers
coordinate only through the `jobs` table (`queue.py`): a job is claimed atomically, kept
alive by a lease renewed in the background and by heartbeats that save its progress and
checkpoint, picked up again by another worker when its lease expires (resuming from the last
checkpoint), and retried with backoff when it failed for a reason that may pass (`retry.py`).
Handlers receive a `JobContext` (`context.py`); the worker (`worker.py`) runs them.
"""
