"""authserver: an OAuth 2 / OpenID Connect authorization server on Authlib and Flask."""

from __future__ import annotations

from flask import Flask

from .config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask app factory. The schema must already be migrated and keys/ initialised
    (`authserver serve` does both before it starts workers)."""
    from .app import build_app

    return build_app(settings or Settings.from_env())
