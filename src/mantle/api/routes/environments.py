"""AWS environments of a tenant: CRUD, the setup kit, the doctor and the provisioner, plus the
tenant's external id. Reading needs the read permission; changing an environment or
provisioning AWS resources needs admin; the doctor needs launch (it acts in the customer's
account the way a run does: it writes a probe object and registers a job definition).

Calls to AWS happen after the database session is closed: a slow AWS never holds a
transaction open.
"""

from __future__ import annotations

from fastapi import APIRouter, Path

from mantle.api.deps import AdminAccess, AppSettings, Db, LaunchAccess, ReadAccess, Secrets
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.cloud.aws import cors, doctor, setup_kit
from mantle.cloud.aws import environments as service
from mantle.cloud.aws.provision import Provisioner, ProvisionSpec
from mantle.schemas.environments import (
    DoctorReport,
    EnvironmentCreate,
    EnvironmentPublic,
    EnvironmentUpdate,
    ProvisionReport,
    ProvisionRequest,
    SetupKit,
    TenantAwsPublic,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant}", tags=["environments"], responses=TENANT_ERRORS
)
EnvironmentName = Path(description="Environment name", max_length=63)


@router.get("/aws", response_model=TenantAwsPublic)
def get_tenant_aws(access: ReadAccess, db: Db, settings: AppSettings) -> TenantAwsPublic:
    """The tenant's external id (what role trust policies require) and the server's
    principal that assumes customers' roles."""
    with db.session() as session:
        return service.tenant_aws(session, access, settings.aws)


@router.get("/environments", response_model=list[EnvironmentPublic])
def list_environments(access: ReadAccess, db: Db) -> list[EnvironmentPublic]:
    with db.session() as session:
        return service.list_environments(session, access)


@router.post("/environments", response_model=EnvironmentPublic, status_code=201, responses=CONFLICT)
def create_environment(
    body: EnvironmentCreate, access: AdminAccess, db: Db, settings: AppSettings, box: Secrets
) -> EnvironmentPublic:
    with db.session() as session:
        return service.create_environment(session, access, body, box, settings.aws)


@router.get("/environments/{environment}", response_model=EnvironmentPublic)
def get_environment(
    access: ReadAccess, db: Db, environment: str = EnvironmentName
) -> EnvironmentPublic:
    with db.session() as session:
        return service.get_environment(session, access, environment)


@router.patch("/environments/{environment}", response_model=EnvironmentPublic, responses=CONFLICT)
def update_environment(
    body: EnvironmentUpdate,
    access: AdminAccess,
    db: Db,
    settings: AppSettings,
    box: Secrets,
    environment: str = EnvironmentName,
) -> EnvironmentPublic:
    with db.session() as session:
        return service.update_environment(session, access, environment, body, box, settings.aws)


@router.delete("/environments/{environment}", status_code=204, responses=CONFLICT)
def delete_environment(access: AdminAccess, db: Db, environment: str = EnvironmentName) -> None:
    with db.session() as session:
        service.delete_environment(session, access, environment)


@router.get("/environments/{environment}/setup-kit", response_model=SetupKit)
def get_setup_kit(
    access: ReadAccess, db: Db, settings: AppSettings, environment: str = EnvironmentName
) -> SetupKit:
    """Every document to set the environment up in AWS (policies, CORS rules, launch template
    user data, a CloudFormation template), generated from its values."""
    with db.session() as session:
        env = service.get_environment(session, access, environment)
        external_id = service.external_id(session, access.tenant_id)
    context = setup_kit.KitContext(
        tenant=access.tenant.slug,
        external_id=external_id,
        origin=cors.origin_of(settings.public_url),
        principal_arn=settings.aws.platform_principal_arn or None,
    )
    return SetupKit(environment=env.name, files=setup_kit.build(env, context))


@router.post("/environments/{environment}/doctor", response_model=DoctorReport)
def run_doctor(
    access: LaunchAccess,
    db: Db,
    settings: AppSettings,
    box: Secrets,
    environment: str = EnvironmentName,
) -> DoctorReport:
    """Check the live AWS setup; each check passes, warns or fails with a one-line fix."""
    with db.session() as session:
        in_use = service.load_for_use(session, access, environment, box, settings.aws)
    checkup = doctor.Doctor(
        env=in_use.public,
        conn=in_use.connect(settings.aws),
        origin=cors.origin_of(settings.public_url),
        tenant=in_use.tenant,
        secrets=in_use.secret_values,
    )
    return doctor.run(checkup)


@router.post(
    "/environments/{environment}/provision", response_model=ProvisionReport, responses=CONFLICT
)
def provision(
    body: ProvisionRequest,
    access: AdminAccess,
    db: Db,
    settings: AppSettings,
    box: Secrets,
    environment: str = EnvironmentName,
) -> ProvisionReport:
    """Create the Batch side (roles, launch template, compute environment, queues) with the
    environment's credentials; idempotent. `dry_run` only reports the plan."""
    with db.session() as session:
        in_use = service.load_for_use(session, access, environment, box, settings.aws)
    spec = ProvisionSpec(
        env=in_use.public,
        tenant=in_use.tenant,
        subnet_ids=body.subnet_ids,
        security_group_ids=body.security_group_ids,
        max_vcpus=body.max_vcpus,
        docker_volume_gib=body.docker_volume_gib,
        secrets=in_use.secret_values,
    )
    return Provisioner(in_use.connect(settings.aws), spec).run(dry_run=body.dry_run)
