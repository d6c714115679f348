"""Each test builds its own app (`create_app`), and FastAPI prepares every route of an included
router again for each app, on its first request: the dependency tree and the pydantic
adapters of each parameter and response model. In the test suite that was half the CPU time
of an API test. Here each route is prepared once per test process and shared by the apps
that include it in the same way.

What a route does is fixed by its definition (module-level routers) and how it is included,
which is the cache key; the app only takes part as the provider of `dependency_overrides`,
which Mantle never uses (`install` refuses to share a route if an app has overrides). If
FastAPI changes these internals, `install` does nothing and the suite is just slower.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

_LOCK = threading.Lock()


def install() -> bool:
    try:
        from fastapi.routing import _EffectiveRouteContext
    except ImportError:
        return False
    build = getattr(_EffectiveRouteContext.from_api_route, "__func__", None)
    if build is None or getattr(build, "shared_by_apps", False):
        return False
    prepared: dict[int, list[tuple[Any, Any, Any]]] = {}

    def from_api_route(cls, *, original_route, include_context):
        provider = include_context.dependency_overrides_provider
        if getattr(provider, "dependency_overrides", None):
            return build(cls, original_route=original_route, include_context=include_context)
        key = dataclasses.replace(include_context, dependency_overrides_provider=None)
        with _LOCK:
            for route, included, context in prepared.get(id(original_route), ()):
                if route is original_route and included == key:
                    return context
        # Built without the app as overrides provider: shared, it must not keep the first app
        # (its database, store and services) alive, nor consult that app's overrides.
        context = build(cls, original_route=original_route, include_context=key)
        with _LOCK:
            prepared.setdefault(id(original_route), []).append((original_route, key, context))
        return context

    from_api_route.shared_by_apps = True
    _EffectiveRouteContext.from_api_route = classmethod(from_api_route)
    return True
