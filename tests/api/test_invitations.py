"""Invitations: admins invite an email; nothing they see tells whether it has an account; the
invitee accepts explicitly (logged in, or by signing up with the token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from mantle.db.models import SqlInvitation
from tests.factories import PASSWORD

BASE = "/api/v1/tenants/acme/invitations"
VOLATILE = ("id", "token", "created_at", "expires_at")


def _invite(api, admin, email: str, role: str = "member"):
    return api.post(BASE, json={"email": email, "role": role}, headers=admin.headers)


def _signup(api, token: str, password: str = "a new password"):
    return api.post("/api/v1/invitations/signup", json={"token": token, "password": password})


def _login(api, email: str, password: str):
    return api.post("/api/v1/auth/login", json={"email": email, "password": password})


def _stable(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in VOLATILE}


def test_inviting_answers_alike_whether_or_not_the_email_has_an_account(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    factory.user("known@example.com")
    known = _invite(api, admin, "known@example.com")
    unknown = _invite(api, admin, "unknown@example.com")
    assert known.status_code == unknown.status_code == 201
    assert known.headers.keys() == unknown.headers.keys()
    shape = {k: v for k, v in _stable(known.json()).items() if k != "email"}
    assert shape == {k: v for k, v in _stable(unknown.json()).items() if k != "email"}
    listed = api.get(BASE, headers=admin.headers).json()
    assert {i["email"] for i in listed} == {"known@example.com", "unknown@example.com"}
    assert len({frozenset(i.keys()) for i in listed}) == 1


def test_token_is_shown_once_and_stored_hashed(api, factory, database):
    admin = factory.member("acme", "adam@example.com", "admin")
    token = _invite(api, admin, "bob@example.com").json()["token"]
    assert token.startswith("mti_")
    assert token not in api.get(BASE, headers=admin.headers).text
    with database.session() as s:
        stored = s.scalars(select(SqlInvitation.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_existing_user_accepts_while_logged_in(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    bob = factory.member("bobs-own", "bob@example.com", "owner")
    token = _invite(api, admin, "bob@example.com", "viewer").json()["token"]
    accept = {"json": {"token": token}, "headers": bob.headers}
    joined = api.post("/api/v1/invitations/accept", **accept)
    assert joined.status_code == 200, joined.text
    assert joined.json()["slug"] == "acme" and joined.json()["role"] == "viewer"
    assert api.get(BASE, headers=admin.headers).json() == []  # no longer pending
    assert api.post("/api/v1/invitations/accept", **accept).status_code == 404  # used


def test_only_the_invited_email_can_accept(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    mallory = factory.member("mal", "mallory@example.com", "owner")
    token = _invite(api, admin, "bob@example.com").json()["token"]
    stolen = api.post("/api/v1/invitations/accept", json={"token": token}, headers=mallory.headers)
    assert stolen.status_code == 403
    members = api.get("/api/v1/tenants/acme/members", headers=admin.headers).json()
    assert "mallory@example.com" not in {m["email"] for m in members}


def test_read_scope_token_cannot_accept(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    bob = factory.member("bobs-own", "bob@example.com", "owner", scope="read")
    token = _invite(api, admin, "bob@example.com").json()["token"]
    refused = api.post("/api/v1/invitations/accept", json={"token": token}, headers=bob.headers)
    assert refused.status_code == 403


def test_new_user_signs_up_with_the_token(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    token = _invite(api, admin, "new@example.com", "member").json()["token"]
    signed_up = _signup(api, token)
    assert signed_up.status_code == 200, signed_up.text
    assert signed_up.json()["email"] == "new@example.com"
    assert signed_up.json()["tenant"] == "acme"
    exchanged = api.post(
        "/api/v1/auth/token",
        json={"email": "new@example.com", "password": "a new password", "tenant": "acme"},
    )
    assert exchanged.status_code == 201
    members = api.get("/api/v1/tenants/acme/members", headers=admin.headers).json()
    assert ("new@example.com", "member") in {(m["email"], m["role"]) for m in members}
    assert _signup(api, token).status_code == 404  # used once


def test_signup_for_an_existing_account_neither_reveals_nor_takes_it_over(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    factory.user("known@example.com")
    known_token = _invite(api, admin, "known@example.com").json()["token"]
    new_token = _invite(api, admin, "fresh@example.com").json()["token"]
    known = _signup(api, known_token, "admin's guess")
    fresh = _signup(api, new_token, "admin's guess")
    assert known.status_code == fresh.status_code == 200
    assert _stable(known.json()).keys() == _stable(fresh.json()).keys()
    assert known.json()["message"].replace("known", "fresh") == fresh.json()["message"]
    # The existing account keeps its password and did not join.
    assert _login(api, "known@example.com", "admin's guess").status_code == 401
    assert _login(api, "known@example.com", PASSWORD).status_code == 200
    members = api.get("/api/v1/tenants/acme/members", headers=admin.headers).json()
    assert "known@example.com" not in {m["email"] for m in members}
    # With its own password, the existing user joins.
    assert _signup(api, known_token, PASSWORD).status_code == 200
    members = api.get("/api/v1/tenants/acme/members", headers=admin.headers).json()
    assert "known@example.com" in {m["email"] for m in members}


def test_revoked_replaced_and_expired_invitations_are_refused(api, factory, database):
    admin = factory.member("acme", "adam@example.com", "admin")
    first = _invite(api, admin, "bob@example.com").json()
    second = _invite(api, admin, "bob@example.com").json()  # replaces the first
    assert [i["id"] for i in api.get(BASE, headers=admin.headers).json()] == [second["id"]]
    assert _signup(api, first["token"]).status_code == 404
    revoked = api.delete(f"{BASE}/{second['id']}", headers=admin.headers)
    assert revoked.status_code == 200
    assert _signup(api, second["token"]).status_code == 404
    third = _invite(api, admin, "bob@example.com").json()
    with database.session() as s:
        s.execute(update(SqlInvitation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = _signup(api, third["token"])
    assert expired.status_code == 404 and "expired" in expired.json()["error"]["message"]
    assert api.get(BASE, headers=admin.headers).json() == []


def test_only_admins_manage_invitations(api, factory):
    factory.member("acme", "owner@example.com", "owner")
    member = factory.member("acme", "mia@example.com", "member")
    reader = factory.member("acme", "adam@example.com", "admin", scope="read")
    assert _invite(api, member, "x@example.com").status_code == 403
    assert api.get(BASE, headers=member.headers).status_code == 403
    assert _invite(api, reader, "x@example.com").status_code == 403


def test_invalid_email_is_refused(api, factory):
    admin = factory.member("acme", "adam@example.com", "admin")
    response = _invite(api, admin, "not an email")
    assert response.status_code == 422 and response.json()["error"]["message"].startswith("email")
