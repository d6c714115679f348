"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from mantle.api.deps import Db

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(db: Db) -> dict[str, str]:
    """The server can take traffic: its database answers (503 otherwise)."""
    db.ping()
    return {"status": "ready", "database": "ok"}
