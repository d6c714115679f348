"""SDK resources of runs: launch (with an idempotency key, so a retried launch never starts
two runs), read, follow and stop them.

    run = client.runs.launch("rnaseq", env="prod", inputs="type=fastq_pair,sample=[S1,S2]")
    run = run.wait(timeout=3600)
    for output in run.outputs(): ...
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import PrivateAttr, TypeAdapter

from mantle.client._resources import _Resource
from mantle.errors import InvalidInputError, RateLimitedError, ServiceUnavailableError
from mantle.schemas.runs import (
    RunLogPage,
    RunOutputPublic,
    RunPage,
    RunPublic,
    RunTaskPublic,
    RunTransitionPublic,
)

FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
LAUNCH_ATTEMPTS = 4


class Run(RunPublic):
    """A run as the SDK returns it, with methods bound to the client it came from."""

    _runs: Runs | None = PrivateAttr(default=None)
    _tenant: str | None = PrivateAttr(default=None)

    def _bound(self) -> Runs:
        if self._runs is None:
            raise InvalidInputError("this run is not bound to a client; use client.runs")
        return self._runs

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def refresh(self) -> Run:
        """The run as it is now (a new object)."""
        return self._bound().get(str(self.id), tenant=self._tenant)

    def wait(
        self,
        timeout: float | None = None,
        poll: float = 5.0,
        on_update: Callable[[Run], None] | None = None,
    ) -> Run:
        """Poll until the run ends and return it as it ended (check `.status`); `TimeoutError`
        after `timeout` seconds. `on_update` sees every state read."""
        deadline = None if timeout is None else time.monotonic() + timeout
        run = self
        while True:
            if on_update is not None:
                on_update(run)
            if run.finished:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{run.short_id} is still {run.status} after {timeout} s")
            time.sleep(
                poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic()))
            )
            run = run.refresh()

    def outputs(self) -> list[RunOutputPublic]:
        return self._bound().outputs(str(self.id), tenant=self._tenant)

    def tasks(self) -> list[RunTaskPublic]:
        return self._bound().tasks(str(self.id), tenant=self._tenant)

    def transitions(self) -> list[RunTransitionPublic]:
        return self._bound().transitions(str(self.id), tenant=self._tenant)

    def logs(self, source: str = "executor") -> list[str]:
        """Every log line there is so far."""
        return list(self._bound().iter_logs(str(self.id), source=source, tenant=self._tenant))

    def cancel(self, reason: str = "") -> Run:
        return self._bound().cancel(str(self.id), reason=reason, tenant=self._tenant)

    def relaunch(self, **options) -> Run:
        return self._bound().relaunch(str(self.id), tenant=self._tenant, **options)

    def resume(self, **options) -> Run:
        return self._bound().resume(str(self.id), tenant=self._tenant, **options)


class Runs(_Resource):
    def _path(self, tenant: str | None, *parts: str) -> str:
        return "/".join([f"/api/v1/tenants/{self._tenant(tenant)}/runs", *parts])

    def _run(self, data: Any, tenant: str | None) -> Run:
        run = Run.model_validate(data)
        run._runs = self
        run._tenant = tenant
        return run

    def launch(
        self,
        pipeline: str,
        *,
        env: str | None = None,
        params: dict[str, Any] | None = None,
        inputs: str | Sequence[Any] | None = None,
        columns: dict[str, str] | None = None,
        name: str = "",
        labels: Sequence[str] = (),
        version: int | None = None,
        idempotency_key: str | None = None,
        tenant: str | None = None,
    ) -> Run:
        """Launch `pipeline`. `inputs` is a catalog query (`"type=fastq_pair,sample=S1"`) or
        datasets (objects with an `id`, short ids or UUIDs). `env` names an AWS environment or
        `"local"` (default: the tenant's default environment, local without one). A request
        that fails on the way is retried with the same idempotency key (made here when not
        given), so it never starts two runs."""
        body = {
            "pipeline": pipeline,
            "version": version,
            "environment": env,
            "params": params or {},
            "inputs": _inputs(inputs, columns),
            "name": name,
            "labels": list(labels),
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
        }
        return self._start(self._path(tenant), body, tenant)

    def _start(self, path: str, body: dict[str, Any], tenant: str | None) -> Run:
        """POST a request that starts a run, retried on a lost answer or throttling: its
        idempotency key makes a retry return the run the first attempt made."""
        for attempt in range(1, LAUNCH_ATTEMPTS + 1):
            try:
                return self._run(self._http.request("POST", path, json=body), tenant)
            except (ServiceUnavailableError, RateLimitedError) as e:
                if attempt == LAUNCH_ATTEMPTS:
                    raise
                wait = e.retry_after if isinstance(e, RateLimitedError) else 2 ** (attempt - 1)
                time.sleep(min(wait, 30))
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, ref: str, *, tenant: str | None = None) -> Run:
        return self._run(self._http.request("GET", self._path(tenant, ref)), tenant)

    def list(
        self,
        *,
        status: str | Sequence[str] = (),
        pipeline: str | None = None,
        created_by: str | None = None,
        label: str | Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
        tenant: str | None = None,
    ) -> Iterator[Run]:
        """Runs, newest first, fetched a page at a time (at most `limit` of them)."""
        params: dict[str, Any] = {
            "status": [status] if isinstance(status, str) else list(status),
            "label": [label] if isinstance(label, str) else list(label),
            "pipeline": pipeline,
            "created_by": created_by,
            "since": since,
            "until": until,
            "limit": min(page_size, limit) if limit else page_size,
        }
        params = {k: v for k, v in params.items() if v not in (None, [])}
        seen, cursor = 0, None
        while True:
            data = self._http.request(
                "GET", self._path(tenant), params={**params, "cursor": cursor} if cursor else params
            )
            page = RunPage.model_validate(data)
            for item in page.items:
                yield self._run(item.model_dump(), tenant)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.next_cursor
            if cursor is None:
                return

    def transitions(self, ref: str, *, tenant: str | None = None) -> list[RunTransitionPublic]:
        data = self._http.request("GET", self._path(tenant, ref, "transitions"))
        return TypeAdapter(list[RunTransitionPublic]).validate_python(data)

    def tasks(self, ref: str, *, tenant: str | None = None) -> list[RunTaskPublic]:
        tasks, cursor = [], None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            data = self._http.request("GET", self._path(tenant, ref, "tasks"), params=params)
            tasks += TypeAdapter(list[RunTaskPublic]).validate_python(data["items"])
            cursor = data.get("next_cursor")
            if cursor is None:
                return tasks

    def logs(
        self,
        ref: str,
        *,
        cursor: str | None = None,
        source: str = "executor",
        tenant: str | None = None,
    ) -> RunLogPage:
        """One page of the run's log from `cursor`; pass `page.cursor` back to read on."""
        params = {"source": source, **({"cursor": cursor} if cursor else {})}
        data = self._http.request("GET", self._path(tenant, ref, "logs"), params=params)
        return RunLogPage.model_validate(data)

    def iter_logs(
        self, ref: str, *, source: str = "executor", tenant: str | None = None
    ) -> Iterator[str]:
        """Every log line there is now, page after page."""
        cursor = None
        while True:
            page = self.logs(ref, cursor=cursor, source=source, tenant=tenant)
            yield from (line.message for line in page.lines)
            if not page.lines or page.cursor == cursor:
                return
            cursor = page.cursor

    def outputs(self, ref: str, *, tenant: str | None = None) -> list[RunOutputPublic]:
        data = self._http.request("GET", self._path(tenant, ref, "outputs"))
        return TypeAdapter(list[RunOutputPublic]).validate_python(data)

    def cancel(self, ref: str, *, reason: str = "", tenant: str | None = None) -> Run:
        data = self._http.request(
            "POST", self._path(tenant, ref, "cancel"), json={"reason": reason}
        )
        return self._run(data, tenant)

    def relaunch(
        self,
        ref: str,
        *,
        name: str = "",
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        tenant=None,
    ) -> Run:
        """A new run with the earlier run's pipeline version, params (`params` change them),
        inputs and environment."""
        return self._again("relaunch", ref, name, params, idempotency_key, tenant)

    def resume(
        self,
        ref: str,
        *,
        name: str = "",
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        tenant=None,
    ) -> Run:
        """Continue a FAILED or CANCELLED Nextflow run in its work directory (`-resume`);
        `params` change the earlier run's params."""
        return self._again("resume", ref, name, params, idempotency_key, tenant)

    def _again(self, action, ref, name, params, idempotency_key, tenant) -> Run:
        body = {
            "name": name,
            "params": params or {},
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
        }
        return self._start(self._path(tenant, ref, action), body, tenant)


def _inputs(inputs: str | Sequence[Any] | None, columns: dict[str, str] | None) -> dict:
    body: dict[str, Any] = {"columns": columns or {}}
    if isinstance(inputs, str):
        body["query"] = inputs
    elif inputs:
        body["datasets"] = [str(getattr(d, "id", d)) for d in inputs]
    return body
