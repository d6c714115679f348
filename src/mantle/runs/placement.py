"""Where a run lives: its run directory, its work directory and the executor that starts it.

Local runs (no environment) keep their run directory in the platform's object store under the
tenant's area, `tenants/{tenant_id}/runs/{run_id}/`, and their Nextflow work directory in a
local folder `{data_dir}/work/{run_id}`. Runs on an AWS environment keep both in its write
bucket: `s3://{bucket}/{prefix}runs/{run_id}/` and `s3://{bucket}/{prefix}work/{run_id}`,
opened with the environment's credentials, and start on its Batch head queue.

Executors are made by factories registered per executor name (`ExecutorFactories`), so tests
swap in a fake one without touching the rest.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mantle.catalog.locations import tenant_prefix
from mantle.catalog.read_buckets import folder
from mantle.cloud.aws import names
from mantle.cloud.aws.environment_service import EnvironmentService
from mantle.cloud.aws.policies import Arns
from mantle.db.models import SqlEnvironment, SqlRun, SqlTenant
from mantle.db.repositories import environments as env_repo
from mantle.errors import NotFoundError
from mantle.executors.base import Executor
from mantle.executors.batch_payload import BatchTarget, groovy_string, nextflow_config
from mantle.settings import Settings
from mantle.storage import ObjectStore

LOCAL = "local"
AWSBATCH = "awsbatch"


class RunServices(Protocol):
    """What placing a run needs from the platform's services (`mantle.services.Services`)."""

    settings: Settings
    object_store: ObjectStore
    environments: EnvironmentService
    executor_factories: ExecutorFactories


ExecutorFactory = Callable[[RunServices, Session, "SqlEnvironment | None"], Executor]


@dataclass(frozen=True)
class Placement:
    """Where one run lives, decided at launch and stored on its row."""

    run_id: uuid.UUID
    executor: str  # "local" | "awsbatch"
    environment_id: uuid.UUID | None
    run_dir: str  # URL ending in "/"
    work_dir: str
    store: ObjectStore  # the run directory
    nextflow_config: str  # the platform's config layer for this run


class ExecutorFactories:
    """Executor name -> factory. The defaults build the real executors; tests replace one."""

    def __init__(self) -> None:
        self._factories: dict[str, ExecutorFactory] = {
            LOCAL: _local_executor,
            AWSBATCH: _batch_executor,
        }
        # One local executor per process: it owns the subprocesses it started.
        self._local: Executor | None = None
        self._lock = threading.Lock()

    def register(self, name: str, factory: ExecutorFactory) -> None:
        self._factories[name] = factory
        if name == LOCAL:
            self._local = None

    def make(self, services: RunServices, session: Session, env: SqlEnvironment | None):
        if env is not None:
            return self._factories[AWSBATCH](services, session, env)
        with self._lock:
            if self._local is None:
                self._local = self._factories[LOCAL](services, session, None)
            return self._local


# --- placing a new run ---------------------------------------------------------------------


def place(
    services: RunServices,
    session: Session,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    env: SqlEnvironment | None,
    *,
    work_dir: str | None = None,
) -> Placement:
    """Where a new run goes; `work_dir` reuses another run's (resume)."""
    if env is None:
        store = _local_run_store(services, tenant_id, run_id)
        work = work_dir or str((services.settings.data_dir / "work" / str(run_id)).resolve())
        config = (
            "// Mantle's platform layer for a local run (generated for each run).\n"
            f"process.executor = 'local'\nworkDir = {groovy_string(work)}\n"
        )
        return Placement(run_id, LOCAL, None, store.root_uri, work, store, config)
    store = _s3_run_store(services, session, env, run_id)
    work = work_dir or f"s3://{env.write_bucket}/{folder(env.write_prefix)}work/{run_id}"
    config = nextflow_config(batch_target(env, work), run_id=str(run_id), tenant_id=str(tenant_id))
    return Placement(run_id, AWSBATCH, env.id, store.root_uri, work, store, config)


# --- an existing run -----------------------------------------------------------------------


def environment_of(session: Session, run: SqlRun) -> SqlEnvironment | None:
    """The run's environment row; a run whose environment was deleted cannot be reached."""
    if run.executor == LOCAL:
        return None
    env = None
    if run.environment_id is not None:
        env = env_repo.get_by_id(session, run.tenant_id, run.environment_id)
    if env is None:
        raise NotFoundError(
            f"the AWS environment of run {run.name!r} no longer exists; its jobs cannot be reached"
        )
    return env


def executor_for(services: RunServices, session: Session, run: SqlRun) -> Executor:
    """The executor that started `run` (and polls, cancels and reads its logs)."""
    return services.executor_factories.make(services, session, environment_of(session, run))


def run_store(services: RunServices, session: Session, run: SqlRun) -> ObjectStore:
    """The object store scoped to the run's directory."""
    env = environment_of(session, run)
    if env is None:
        return _local_run_store(services, run.tenant_id, run.id)
    return _s3_run_store(services, session, env, run.id)


# --- stores and executors ------------------------------------------------------------------


def _local_run_store(services: RunServices, tenant_id: uuid.UUID, run_id: uuid.UUID):
    return services.object_store.scoped(tenant_prefix(tenant_id)).scoped(f"runs/{run_id}/")


def _s3_run_store(services: RunServices, session: Session, env: SqlEnvironment, run_id):
    from mantle.storage.s3 import S3ObjectStore

    _in_use, connection = services.environments.connect(session, env.tenant_id, env.id)
    prefix = f"{folder(env.write_prefix)}runs/{run_id}/"
    return S3ObjectStore(connection.client("s3"), env.write_bucket, prefix)


def head_job_role_arn(session: Session, env: SqlEnvironment) -> str:
    """The role head jobs run as: the setup kit's `mantle-<tenant>-<env>-head-job`, which may
    submit Nextflow's task jobs and read and write the environment's buckets. Without it a
    head job would run as the Batch hosts' instance role, which can do neither."""
    tenant = session.get(SqlTenant, env.tenant_id)
    slug = tenant.slug if tenant is not None else str(env.tenant_id)
    role = names.resource_names(slug, env.name, role_arn=env.role_arn).head_job_role
    return Arns(region=env.region, account=env.account_id).role(role)


def batch_target(
    env: SqlEnvironment, work_dir: str = "", *, job_role_arn: str | None = None
) -> BatchTarget:
    """Where the environment's head jobs run; `work_dir` is the run's Nextflow work dir."""
    return BatchTarget(
        job_role_arn=job_role_arn,
        region=env.region,
        head_queue=env.head_queue,
        compute_queue=env.compute_queue,
        head_image=env.head_image,
        head_vcpus=env.head_vcpus,
        head_memory_mib=env.head_memory_mib,
        log_group=env.log_group,
        cli_path=env.cli_path,
        work_dir=work_dir,
        extra_config=env.nextflow_config or "",
    )


def _local_executor(services: RunServices, _session: Session, _env: Any) -> Executor:
    from mantle.executors.local import LocalExecutor

    return LocalExecutor(services.settings.data_dir / "executors" / "local")


def _batch_executor(services: RunServices, session: Session, env: Any) -> Executor:
    from mantle.executors.awsbatch import AwsBatchExecutor, credentials_group

    in_use, connection = services.environments.connect(session, env.tenant_id, env.id)
    aws = services.settings.aws
    # Runs are polled together (and job definitions remembered) per group: Batch's own
    # endpoint, when set, tells apart groups that the same credentials would merge.
    endpoint = aws.endpoint_urls.get("batch") or aws.endpoint_url
    key = credentials_group(in_use.credentials, env.region, endpoint_url=endpoint)
    target = batch_target(env, job_role_arn=head_job_role_arn(session, env))
    return AwsBatchExecutor(connection, target, group_key=key, secrets=in_use.secret_values)
