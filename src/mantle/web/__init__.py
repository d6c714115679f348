"""Server-rendered web pages (Jinja2): login, tenants, members and API tokens."""
