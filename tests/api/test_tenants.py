"""Tenants and members: creation, roles, the last-owner rule, validation."""

from __future__ import annotations


def test_create_tenant_makes_the_creator_owner(api, factory):
    factory.user("ann@example.com")
    factory.browser_login("ann@example.com")
    csrf = {"X-CSRF-Token": api.cookies["mantle_csrf"]}
    created = api.post("/api/v1/tenants", json={"slug": "acme", "name": "Acme Bio"}, headers=csrf)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "owner"
    taken = api.post("/api/v1/tenants", json={"slug": "acme"}, headers=csrf)
    assert taken.status_code == 409 and "taken" in taken.json()["error"]["message"]
    assert [t["slug"] for t in api.get("/api/v1/tenants").json()] == ["acme"]


def test_tenant_slug_is_validated(api, factory):
    factory.user("ann@example.com")
    factory.browser_login("ann@example.com")
    csrf = {"X-CSRF-Token": api.cookies["mantle_csrf"]}
    for slug in ["Acme", "-acme", "a b", "a/b", "", "x" * 64, "../etc"]:
        response = api.post("/api/v1/tenants", json={"slug": slug}, headers=csrf)
        assert response.status_code == 422, slug
        assert response.json()["error"]["message"].startswith("slug")


def test_only_a_server_admins_write_token_creates_tenants(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    response = api.post("/api/v1/tenants", json={"slug": "other"}, headers=ann.headers)
    assert response.status_code == 403
    assert "mantle users create EMAIL --superuser" in response.json()["error"]["message"]
    factory.user("root@example.com", superuser=True)
    reader = factory.member("acme", "root@example.com", "owner", scope="read")
    response = api.post("/api/v1/tenants", json={"slug": "other"}, headers=reader.headers)
    assert response.status_code == 403 and "write scope" in response.text
    root = factory.member("acme", "root@example.com", "owner")
    created = api.post("/api/v1/tenants", json={"slug": "newco"}, headers=root.headers)
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "newco" and created.json()["role"] == "owner"


def _invite(api, admin, email: str, role: str = "member"):
    return api.post(
        "/api/v1/tenants/acme/invitations",
        json={"email": email, "role": role},
        headers=admin.headers,
    )


def _accept(api, member, token: str):
    return api.post("/api/v1/invitations/accept", json={"token": token}, headers=member.headers)


def test_member_lifecycle(api, factory):
    owner = factory.member("acme", "owner@example.com", "owner")
    bob = factory.member("bobs-own", "bob@example.com", "owner")
    invited = _invite(api, owner, "Bob@Example.com")
    assert invited.status_code == 201 and invited.json()["role"] == "member"
    assert _accept(api, bob, invited.json()["token"]).json()["slug"] == "acme"
    again = _invite(api, owner, "bob@example.com")
    assert again.status_code == 409
    changed = api.patch(
        f"/api/v1/tenants/acme/members/{bob.user_id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert changed.json()["role"] == "viewer"
    members = api.get("/api/v1/tenants/acme/members", headers=owner.headers).json()
    assert {(m["email"], m["role"]) for m in members} == {
        ("owner@example.com", "owner"),
        ("bob@example.com", "viewer"),
    }
    removed = api.delete(f"/api/v1/tenants/acme/members/{bob.user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert len(api.get("/api/v1/tenants/acme/members", headers=owner.headers).json()) == 1


def test_existing_users_are_not_added_without_consent(api, factory):
    owner = factory.member("acme", "owner@example.com", "owner")
    factory.user("bob@example.com")
    assert _invite(api, owner, "bob@example.com").status_code == 201
    members = api.get("/api/v1/tenants/acme/members", headers=owner.headers).json()
    assert [m["email"] for m in members] == ["owner@example.com"]  # until Bob accepts


def test_last_owner_cannot_leave_or_be_demoted(api, factory):
    owner = factory.member("acme", "owner@example.com", "owner")
    demote = api.patch(
        f"/api/v1/tenants/acme/members/{owner.user_id}",
        json={"role": "admin"},
        headers=owner.headers,
    )
    assert demote.status_code == 409 and "at least one owner" in demote.json()["error"]["message"]
    leave = api.delete(f"/api/v1/tenants/acme/members/{owner.user_id}", headers=owner.headers)
    assert leave.status_code == 409


def test_admin_cannot_touch_owners(api, factory):
    owner = factory.member("acme", "owner@example.com", "owner")
    admin = factory.member("acme", "adam@example.com", "admin")
    promote = _invite(api, admin, "carl@example.com", "owner")
    assert promote.status_code == 403
    demote = api.patch(
        f"/api/v1/tenants/acme/members/{owner.user_id}",
        json={"role": "member"},
        headers=admin.headers,
    )
    assert demote.status_code == 403
    ok = _invite(api, admin, "carl@example.com", "admin")
    assert ok.status_code == 201


def test_member_sees_own_tokens_admin_sees_all(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    member = factory.member("acme", "mia@example.com", "member")
    own = api.get("/api/v1/tenants/acme/tokens", headers=member.headers).json()
    assert {t["user_email"] for t in own} == {"mia@example.com"}
    assert (
        api.get("/api/v1/tenants/acme/tokens?all=true", headers=member.headers).status_code == 403
    )
    everyone = api.get("/api/v1/tenants/acme/tokens?all=true", headers=admin.headers).json()
    assert {t["user_email"] for t in everyone} == {"adam@example.com", "mia@example.com"}
    mia_token = own[0]["id"]
    assert (
        api.delete(f"/api/v1/tenants/acme/tokens/{mia_token}", headers=admin.headers).status_code
        == 200
    )


def test_member_cannot_revoke_anothers_token(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    member = factory.member("acme", "mia@example.com", "member")
    admin_token = api.get("/api/v1/tenants/acme/tokens", headers=admin.headers).json()[0]["id"]
    response = api.delete(f"/api/v1/tenants/acme/tokens/{admin_token}", headers=member.headers)
    assert response.status_code == 403


def test_superuser_creates_users(api, factory):
    admin_id = factory.user("root@example.com", superuser=True)
    assert admin_id
    factory.browser_login("root@example.com")
    csrf = {"X-CSRF-Token": api.cookies["mantle_csrf"]}
    created = api.post(
        "/api/v1/users",
        headers=csrf,
        json={"email": "new@example.com", "password": "long enough pw"},
    )
    assert created.status_code == 201 and "password" not in created.text
    short = api.post(
        "/api/v1/users", headers=csrf, json={"email": "x@example.com", "password": "short"}
    )
    assert short.status_code == 422


def test_ordinary_user_cannot_create_users(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    response = api.post(
        "/api/v1/users",
        headers=ann.headers,
        json={"email": "new@example.com", "password": "long enough pw"},
    )
    assert response.status_code == 403
