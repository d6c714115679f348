"""Mantle: a self-hosted data platform for biotech."""

__version__ = "0.1.0"
