"""Metadata persistence: SQLAlchemy tables, the engine and session scope, Alembic migrations,
and repository functions (one module per aggregate under `repositories/`)."""
