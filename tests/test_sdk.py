"""The Python SDK: public surface, error mapping through an injected transport, and the real
calls against a live server."""

from __future__ import annotations

import inspect

import httpx
import pytest

import mantle
import mantle.client
from mantle import Client


def test_all_lists_exactly_the_public_names():
    for module in (mantle, mantle.client):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
        }
        assert public <= set(module.__all__), f"{module.__name__}: {public - set(module.__all__)}"


def _client(handler) -> Client:
    return Client(
        "http://mantle.test", "mtk_x", tenant="acme", transport=httpx.MockTransport(handler)
    )


def test_api_errors_become_the_same_exceptions():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer mtk_x"
        if request.url.path.endswith("/members"):
            return httpx.Response(
                404,
                json={
                    "error": {
                        "code": "not_found",
                        "message": "tenant 'acme' not found",
                        "details": None,
                    }
                },
            )
        return httpx.Response(
            429,
            json={
                "error": {"code": "rate_limited", "message": "slow", "details": {"retry_after": 12}}
            },
        )

    client = _client(handler)
    with pytest.raises(mantle.NotFoundError, match="tenant 'acme' not found"):
        client.tenants.members()
    with pytest.raises(mantle.RateLimitedError) as caught:
        client.whoami()
    assert caught.value.retry_after == 12


def test_network_failure_is_service_unavailable():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(mantle.ServiceUnavailableError, match="cannot reach"):
        _client(handler).whoami()


def test_non_json_error_body():
    with pytest.raises(mantle.MantleError, match="HTTP 502"):
        _client(lambda request: httpx.Response(502, text="<html>bad gateway</html>")).whoami()


def test_sdk_against_a_live_server(live_server):
    created = Client.login(
        live_server.url,
        live_server.admin_email,
        live_server.admin_password,
        token_name="sdk test",
        tenant=live_server.tenant,
    )
    with Client(live_server.url, created.token) as client:
        me = client.whoami()
        assert me.user.email == live_server.admin_email and me.tenant.slug == "default"
        assert client.default_tenant() == "default"
        # The live server is shared by the session: other tests may have added members.
        roles = {m.email: m.role for m in client.tenants.members()}
        assert roles[live_server.admin_email] == "owner"
        extra = client.tokens.create("short-lived", scope="read", expires_in_days=1)
        assert extra.token.startswith("mtk_")
        assert extra.id in [t.id for t in client.tokens.list()]
        assert client.tokens.revoke(extra.id).revoked_at is not None
        with pytest.raises(mantle.NotFoundError):
            client.tenants.get("someone-elses")
    with (
        Client(live_server.url, extra.token) as revoked,
        pytest.raises(mantle.AuthenticationError, match="revoked"),
    ):
        revoked.whoami()
    with pytest.raises(mantle.AuthenticationError):
        Client.login(live_server.url, live_server.admin_email, "wrong password")


def test_sdk_invitations_against_a_live_server(live_server):
    admin_token = Client.login(
        live_server.url,
        live_server.admin_email,
        live_server.admin_password,
        token_name="sdk",
        tenant=live_server.tenant,
    ).token
    with Client(live_server.url, admin_token) as admin:
        invited = admin.tenants.invite("sdk-new@example.com", "member")
        assert invited.token.startswith("mti_")
        assert [i.email for i in admin.tenants.invitations()] == ["sdk-new@example.com"]
        with pytest.raises(mantle.PermissionDeniedError):
            admin.tenants.accept(invited.token)  # it is for someone else
        signed_up = Client.sign_up(live_server.url, invited.token, "sdk new password")
        assert (signed_up.email, signed_up.tenant) == ("sdk-new@example.com", "default")
        assert "sdk-new@example.com" in [m.email for m in admin.tenants.members()]
        again = admin.tenants.invite("sdk-later@example.com")
        assert admin.tenants.revoke_invitation(again.id).email == "sdk-later@example.com"
        assert admin.tenants.invitations() == []
    new_token = Client.login(live_server.url, "sdk-new@example.com", "sdk new password").token
    with Client(live_server.url, new_token) as newcomer:
        assert newcomer.whoami().tenant.role == "member"
