"""Runs: launch (validate params, resolve dataset inputs, write the run directory, submit), the
run state machine, the monitor that follows runs in the background worker, tasks, and the
ingestion of outputs into the catalog with lineage."""
