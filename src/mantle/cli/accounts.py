"""Client-side account commands: login/logout/whoami, tenants, members and invitations, API
tokens. They talk to a server through the SDK with the stored credentials."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from mantle.cli import config
from mantle.cli.output import emit, out
from mantle.errors import AuthenticationError, NotFoundError

if TYPE_CHECKING:
    from mantle.client import Client

JSON = typer.Option(False, "--json", help="Print JSON (for scripts).")
TENANT = typer.Option(None, "--tenant", "-t", help="Tenant slug (default: the token's tenant).")

tenants_app = typer.Typer(help="Tenants (workspaces) and their members.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.add_typer(tenants_app, name="tenants")
    app.add_typer(tokens_app, name="tokens")


def client() -> Client:
    from mantle.client import Client  # httpx and the models load when a command runs

    creds = config.load()
    return Client(creds.url, creds.token, tenant=creds.tenant)


def login(
    url: str = typer.Argument(..., help="The server, e.g. http://127.0.0.1:8000"),
    token: str = typer.Option(None, help="An API token made in the web UI (or MANTLE_TOKEN)."),
    email: str = typer.Option(None, help="Log in with email and password instead."),
    tenant: str = typer.Option(None, help="Tenant for the new token (password login)."),
) -> None:
    """Log in to a server and keep the token in your config dir (file mode 0600)."""
    from mantle.client import Client

    token = token or os.environ.get("MANTLE_TOKEN")
    if not token:
        email = email or typer.prompt("Email")
        password = os.environ.get("MANTLE_PASSWORD") or typer.prompt("Password", hide_input=True)
        token = Client.login(url, email, password, tenant=tenant, token_name=_token_name()).token
    _save_login(url, token, tenant)


def _token_name() -> str:
    return f"mantle CLI on {os.uname().nodename}"


def _save_login(url: str, token: str, tenant: str | None) -> None:
    from mantle.client import Client

    with Client(url, token) as api:
        me = api.whoami()
    tenant_slug = me.tenant.slug if me.tenant else tenant
    path = config.save(config.Credentials(url=url.rstrip("/"), token=token, tenant=tenant_slug))
    out.print(
        f"logged in to {url} as {me.user.email}"
        + (f" (tenant {tenant_slug})" if tenant_slug else "")
    )
    out.print(f"credentials saved to {path}", style="dim")


def logout() -> None:
    """Forget the stored credentials (the token stays valid until revoked)."""
    out.print("logged out" if config.forget() else "not logged in")


def whoami(as_json: bool = JSON) -> None:
    """Who the stored token belongs to, and its tenant."""
    with client() as api:
        me = api.whoami()
    if as_json:
        emit(me, as_json=True)
        return
    out.print(f"user    {me.user.email}" + (" (server admin)" if me.user.is_superuser else ""))
    if me.tenant:
        out.print(f"tenant  {me.tenant.slug} (role {me.tenant.role}, token scope {me.token_scope})")
    out.print(f"tenants {', '.join(t.slug for t in me.tenants) or 'none'}")


TENANT_COLUMNS = ("slug", "name", "role", "created_at")
MEMBER_COLUMNS = ("email", "name", "role", "user_id")
INVITATION_COLUMNS = ("id", "email", "role", "invited_by", "expires_at")
TOKEN_COLUMNS = (
    "id",
    "name",
    "prefix",
    "scope",
    "user_email",
    "expires_at",
    "last_used_at",
    "revoked_at",
)


@tenants_app.command("list")
def tenants_list(as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.tenants.list(), as_json=as_json, columns=TENANT_COLUMNS)


@tenants_app.command("show")
def tenants_show(tenant: str = typer.Argument(None), as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.tenants.get(tenant), as_json=as_json, columns=TENANT_COLUMNS)


@tenants_app.command("create")
def tenants_create(slug: str, name: str = typer.Option(""), as_json: bool = JSON) -> None:
    """Create a tenant (you become its owner). Server admins only; see `mantle users create`."""
    creds = config.load()
    with client() as api:
        created = api.tenants.create(slug, name)
    emit(created, as_json=as_json, columns=TENANT_COLUMNS)
    if not as_json:
        # The stored token belongs to its own tenant; a new login reaches the new one.
        out.print(f"to work in it: mantle login {creds.url} --tenant {created.slug}", style="dim")


@tenants_app.command("members")
def tenants_members(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.tenants.members(tenant), as_json=as_json, columns=MEMBER_COLUMNS)


@tenants_app.command("invite")
def tenants_invite(
    email: str,
    role: str = typer.Option("member", help="owner, admin, member or viewer"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Invite someone (admins). Prints a token, once: pass it to them."""
    with client() as api:
        created = api.tenants.invite(email, role, tenant=tenant)
    if as_json:
        emit(created, as_json=True)
        return
    out.print(f"invited {created.email} as {created.role}, until {created.expires_at:%Y-%m-%d}")
    out.print(f"they accept with: mantle tenants accept <token> --url {api.url}")
    out.print("the token, shown once:")
    print(created.token)


@tenants_app.command("invitations")
def tenants_invitations(tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Pending invitations (admins)."""
    with client() as api:
        emit(api.tenants.invitations(tenant), as_json=as_json, columns=INVITATION_COLUMNS)


@tenants_app.command("revoke-invitation")
def tenants_revoke_invitation(invitation_id: str, tenant: str = TENANT) -> None:
    with client() as api:
        revoked = api.tenants.revoke_invitation(invitation_id, tenant=tenant)
    out.print(f"revoked the invitation of {revoked.email}")


@tenants_app.command("accept")
def tenants_accept(
    token: str = typer.Argument(..., help="The invitation token (mti_...)."),
    url: str = typer.Option(
        None, help="The server, when you are not logged in to it: signs you up (or in)."
    ),
) -> None:
    """Accept an invitation: as the logged-in user, or, with --url, by setting a password
    for a new account (an existing account gives its password); then logs in."""
    from mantle.client import Client

    if url is None:
        with client() as api:
            joined = api.tenants.accept(token)
        out.print(f"joined {joined.slug} as {joined.role}")
        return
    password = os.environ.get("MANTLE_PASSWORD") or typer.prompt(
        "Password (new account: choose one; existing account: its password)",
        hide_input=True,
        confirmation_prompt=True,
    )
    signed_up = Client.sign_up(url, token, password)
    try:
        created = Client.login(
            url, signed_up.email, password, tenant=signed_up.tenant, token_name=_token_name()
        )
    except AuthenticationError as e:
        raise AuthenticationError(
            f"could not log in as {signed_up.email}: if that email already had an account, "
            "run this again with its password"
        ) from e
    _save_login(url, created.token, signed_up.tenant)


def _member_id(api: Client, email: str, tenant: str | None):
    for member in api.tenants.members(tenant):
        if member.email == email.lower():
            return member.user_id
    raise NotFoundError(f"{email} is not a member")


@tenants_app.command("set-role")
def tenants_set_role(email: str, role: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        member = api.tenants.set_role(_member_id(api, email, tenant), role, tenant=tenant)
        emit(member, as_json=as_json, columns=MEMBER_COLUMNS)


@tenants_app.command("remove-member")
def tenants_remove_member(email: str, tenant: str = TENANT) -> None:
    with client() as api:
        api.tenants.remove_member(_member_id(api, email, tenant), tenant=tenant)
    out.print(f"removed {email}")


@tokens_app.command("create")
def tokens_create(
    name: str,
    scope: str = typer.Option("write", help="read or write"),
    expires_in_days: int = typer.Option(None, help="Days until it expires (default: never)."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Create an API token. It is printed once: store it now."""
    with client() as api:
        created = api.tokens.create(
            name, scope=scope, expires_in_days=expires_in_days, tenant=tenant
        )
    if as_json:
        emit(created, as_json=True)
    else:
        out.print(f"token {created.name} ({created.scope}), id {created.id}")
        out.print("copy it now, it will not be shown again:")
        print(created.token)


@tokens_app.command("list")
def tokens_list(
    everyone: bool = typer.Option(False, "--all", help="Every member's tokens (admins)."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with client() as api:
        emit(
            api.tokens.list(everyone=everyone, tenant=tenant),
            as_json=as_json,
            columns=TOKEN_COLUMNS,
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token: str = typer.Argument(..., help="Token id, or its prefix as `tokens list` shows it"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with client() as api:
        token_id = _token_id(api, token, tenant)
        emit(api.tokens.revoke(token_id, tenant=tenant), as_json=as_json, columns=TOKEN_COLUMNS)


def _token_id(api: Client, ref: str, tenant: str | None) -> str:
    matches = [
        t for t in api.tokens.list(tenant=tenant) if str(t.id) == ref or t.prefix == ref.rstrip("…")
    ]
    if len(matches) != 1:
        raise NotFoundError(f"no single token matches {ref!r}; use its id from `tokens list`")
    return str(matches[0].id)
