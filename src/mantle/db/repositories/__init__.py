"""Repository functions: each takes a session, filters by tenant where the data is a tenant's,
and returns rows or None. Callers (services, routes) decide what a missing row means."""
