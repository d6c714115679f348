"""The pipeline registry: Nextflow pipelines from git (revision resolved to a commit, params
schema, samplesheet schema) and script pipelines, with the output rules that turn what they
publish into datasets. `service.Pipelines` is the entry point."""
