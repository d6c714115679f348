"""Environments for code that acts without a user at hand (the worker, run monitoring): load a
tenant's environment by name, id or default, with its credentials decrypted, and keep one AWS
connection per environment.

Making a boto3 session costs about 0.3 s (and, with a role, an STS call on first use); a
cached one makes a client in about 10 ms and renews assumed-role credentials by itself. The
cache is keyed by environment id and `updated_at`, so any edit of an environment (new keys,
another role or region) gives a fresh connection. Lookups always go through the tenant: the
cache is only consulted for a row the tenant owns.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import datetime

from sqlalchemy.orm import Session

from mantle.aws.connect import AwsConnection
from mantle.cloud.aws import environments
from mantle.cloud.aws.crypto import SecretBox
from mantle.cloud.aws.environments import EnvironmentInUse
from mantle.schemas.environments import EnvironmentPublic
from mantle.settings import AwsSettings

EnvironmentRef = str | uuid.UUID | None  # a name, an id, or None for the tenant's default


class EnvironmentService:
    def __init__(self, box: SecretBox, aws: AwsSettings, *, cache_size: int = 256) -> None:
        self._box = box
        self._aws = aws
        self._cache_size = cache_size
        self._cache: OrderedDict[uuid.UUID, tuple[datetime, AwsConnection]] = OrderedDict()
        self._lock = threading.Lock()

    def public(
        self, session: Session, tenant_id: uuid.UUID, ref: EnvironmentRef
    ) -> EnvironmentPublic:
        row = environments.find_row(session, tenant_id, ref)
        return environments.environment_public(row, environments.external_id(session, tenant_id))

    def load(self, session: Session, tenant_id: uuid.UUID, ref: EnvironmentRef) -> EnvironmentInUse:
        row = environments.find_row(session, tenant_id, ref)
        return environments.in_use(session, row, self._box, self._aws)

    def connect(
        self, session: Session, tenant_id: uuid.UUID, ref: EnvironmentRef
    ) -> tuple[EnvironmentInUse, AwsConnection]:
        env = self.load(session, tenant_id, ref)
        return env, self.connection(env)

    def connection(self, env: EnvironmentInUse) -> AwsConnection:
        """The cached connection for `env` as it is now; made (no AWS call yet) on a miss."""
        key, version = env.public.id, env.public.updated_at
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == version:
                self._cache.move_to_end(key)
                return cached[1]
        made = env.connect(self._aws)
        with self._lock:
            self._cache[key] = (version, made)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return made
