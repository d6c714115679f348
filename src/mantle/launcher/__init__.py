"""The launcher: the program that runs inside a run's job (`python -m mantle.launcher RUN_DIR_URL`),
as a Batch head job or as a local subprocess, with the same code on both executors.

It reads the run directory (`mantle.rundir`), checks the pipeline out at its exact commit,
runs the engine (Nextflow, or a script pipeline's one command), streams everything into
`launcher.log`, and writes `outputs.json` last. It imports only the bottom layer (errors,
rundir, storage, aws) so that the head-job image needs nothing of the server.

    run_directory.py  opening the run directory (file:// or s3://) and input objects
    logbook.py        launcher.log (and trace.tsv) written locally, mirrored to S3
    processes.py      running the engine: output streamed to the log, signals forwarded
    checkout.py       git checkout of the pipeline at its commit
    nextflow.py       the Nextflow engine: scratch files and the command line
    script.py         the script engine: staged inputs, the script protocol, one-task trace
    trace_format.py   Nextflow's trace file formatting (times, durations, memory)
    outputs.py        the outputs manifest
    main.py           the whole sequence and its exit codes
"""

from mantle.launcher.main import LauncherError, launch

__all__ = ["LauncherError", "launch"]
