"""What the own-API tests share (tests/test_own_apis.py and tests/test_own_apis_grants.py): a
new API with unique names, an API's scope by index, the module's two APIs (a fixture: "orders",
with a described scope and its own token lifetime, and "billing"), and a token's claims."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from .support import ServerProcess


def _api(server: ServerProcess, name: str, *scopes: str, ttl: int | None = None) -> dict[str, Any]:
    """A new API with a unique audience and scope names (prefixed by `name`)."""
    tag = secrets.token_hex(3)
    options = [option for scope in scopes for option in ("--scope", f"{name}{tag}:{scope}")]
    if ttl is not None:
        options += ["--access-token-ttl", str(ttl)]
    return server.cli_json("api", "create", "--audience", f"https://{name}{tag}.example.com",
                           "--name", f"{name.title()} {tag}", *options)


def _scope(api: dict[str, Any], index: int = 0) -> str:
    return str(api["scopes"][index]["name"])


@pytest.fixture(scope="module")
def apis(server: ServerProcess) -> Iterator[dict[str, dict[str, Any]]]:
    made = {"orders": _api(server, "orders", "read=See your <b>orders</b>", "write", ttl=120),
            "billing": _api(server, "billing", "read=See your invoices")}
    yield made
    assert "Traceback" not in server.log()


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))
