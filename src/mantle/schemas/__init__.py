"""Pydantic schemas shared by the API (request/response bodies) and the SDK (return values).
Named by purpose: `...Create`, `...Update`, `...Public`."""
