"""HTTP API (FastAPI): thin routes that parse, authorize, call a service and render."""
