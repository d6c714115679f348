"""The `mantle` command line (Typer). Commands are thin: they call the SDK (or, for server
administration, the services) and render with `output`."""
