"""Tenants, users, memberships and roles, API tokens, browser sessions and login throttling.

`policy.authorize` is the one place where access to a tenant is decided.
"""
