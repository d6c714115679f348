"""Executors: where a run's head process runs. One interface (`base.Executor`): submit,
batched poll, idempotent cancel, logs with a cursor.

- `local`: the launcher as a subprocess on this machine, watched by `local_supervisor` so its
  outcome survives a server restart (state under the executor's `state_dir`).
- `awsbatch`: the launcher as a head job on the environment's Batch queue; the payloads it
  sends (job definition, SubmitJob request, the Nextflow config layer) are built in
  `batch_payload`, pure and tested without AWS.

Executors sit in the bottom layer: they use errors, settings, rundir, storage and aws only."""
