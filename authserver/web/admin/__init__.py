"""The administration API, `<issuer>/admin/v1` (INTERFACE.md "Administration API"): the CLI's
operations over HTTP, for platforms that automate.

Every route is a thin adapter: it parses JSON (problems.py), calls one function of
authserver.operations (the same the CLI calls), commits, and audits the write with the calling
client's id. Callers authenticate with our own access tokens for the built-in API
`<issuer>/admin` (Bearer or DPoP): `admin:read` for GET, `admin:write` for the rest.
"""

from __future__ import annotations

from . import apis as apis  # /admin/v1/apis
from . import clients, keys
from . import groups as groups  # /admin/v1/groups
from . import idps as idps  # /admin/v1/idps
from . import roles as roles  # /admin/v1/roles
from . import user_mfa as user_mfa  # /admin/v1/users/{username}/mfa
from . import users as users  # /admin/v1/users
from .blueprint import bp

__all__ = ["bp", "clients", "keys"]
