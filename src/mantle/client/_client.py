"""`Client`: the SDK's entry point."""

from __future__ import annotations

import httpx

from mantle._version import __version__
from mantle.client._catalog import Activities, Datasets, DataTypes
from mantle.client._environments import Environments
from mantle.client._imports import Imports
from mantle.client._pipelines import Pipelines
from mantle.client._resources import Tenants, Tokens, Users
from mantle.client._runs import Runs
from mantle.client._transport import USER_AGENT, Http
from mantle.client._uploads import Uploads
from mantle.errors import InvalidInputError
from mantle.schemas.accounts import InvitationSignupResult, TokenCreated, WhoAmI


class Client:
    """A connection to a Mantle server.

        client = mantle.Client("https://mantle.example.com", token="mtk_...")
        client.whoami().user.email

    `tenant` is the default for tenant-scoped calls; when omitted it is the tenant the API
    token belongs to. `transport` lets tests route requests to an in-process app.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        tenant: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": f"{USER_AGENT}/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = Http(
            httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)
        )
        self._tenant = tenant
        self.users = Users(self._http, self.default_tenant)
        self.tenants = Tenants(self._http, self.default_tenant)
        self.tokens = Tokens(self._http, self.default_tenant)
        self.data_types = DataTypes(self._http, self.default_tenant)
        self.datasets = Datasets(self._http, self.default_tenant)
        self.activities = Activities(self._http, self.default_tenant)
        self.environments = Environments(self._http, self.default_tenant)
        self.uploads = Uploads(self._http, self.default_tenant)
        self.imports = Imports(self._http, self.default_tenant)
        self.pipelines = Pipelines(self._http, self.default_tenant)
        self.runs = Runs(self._http, self.default_tenant)
        self.datasets.transfers = self.uploads
        self.uploads.bind = self.datasets.bind

    @classmethod
    def login(
        cls,
        url: str,
        email: str,
        password: str,
        *,
        tenant: str | None = None,
        token_name: str = "mantle SDK",
        transport: httpx.BaseTransport | None = None,
    ) -> TokenCreated:
        """Trade an email and password for a new API token (shown once: keep it)."""
        with cls(url, transport=transport) as anonymous:
            body = {
                "email": email,
                "password": password,
                "tenant": tenant,
                "token_name": token_name,
            }
            return TokenCreated.model_validate(
                anonymous._http.request("POST", "/api/v1/auth/token", json=body)
            )

    @classmethod
    def sign_up(
        cls,
        url: str,
        invitation: str,
        password: str,
        *,
        name: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> InvitationSignupResult:
        """Accept an invitation without an account: it is made with `password`. (If the email
        has one, it joins only if `password` is its password.) Then `login` as `.email`."""
        with cls(url, transport=transport) as anonymous:
            body = {"token": invitation, "password": password, "name": name}
            return InvitationSignupResult.model_validate(
                anonymous._http.request("POST", "/api/v1/invitations/signup", json=body)
            )

    def whoami(self) -> WhoAmI:
        return WhoAmI.model_validate(self._http.request("GET", "/api/v1/me"))

    def default_tenant(self) -> str:
        if self._tenant is None:
            me = self.whoami()
            if me.tenant is not None:
                self._tenant = me.tenant.slug
            elif len(me.tenants) == 1:
                self._tenant = me.tenants[0].slug
            else:
                raise InvalidInputError("this call needs a tenant: pass tenant=... ")
        return self._tenant

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
