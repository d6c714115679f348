"""The package version, in a module of its own so the SDK and the server can both read it
without importing `mantle` (whose `__init__` loads the SDK)."""

__version__ = "0.1.0"
