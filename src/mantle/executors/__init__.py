"""Executors: where a run's head process runs. One interface (`base.Executor`): submit,
batched poll, idempotent cancel, logs with a cursor. `local` runs the launcher as a subprocess
on this machine; `awsbatch` runs it as a head job on the environment's Batch queue."""
