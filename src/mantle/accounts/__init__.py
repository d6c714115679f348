"""Tenants, users, memberships and roles, invitations, API tokens, browser sessions, password
hashing and login throttling.

`policy.authorize` is the one place where access to a tenant is decided.
"""
