"""A database that cannot be used at all (unreachable, missing, no driver), told in one line
that names the problem and the URL without its password, instead of a driver's traceback."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

VARIABLE = "AUTHSERVER_DATABASE_URL"


class DatabaseUnusable(Exception):
    """The configured database cannot be used; the message is for the operator (exit 1)."""

    @classmethod
    def from_error(cls, error: BaseException, url: str) -> DatabaseUnusable:
        return cls(f"cannot use the database {without_password(url)} ({VARIABLE}): "
                   f"{_problem(error)}")


def without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a URL SQLAlchemy cannot read)"


def _problem(error: BaseException) -> str:
    if isinstance(error, NoSuchModuleError):
        return "SQLAlchemy has no dialect for its scheme (e.g. postgresql+psycopg://...)"
    if isinstance(error, ImportError):
        return f"its driver is not installed ({error})"
    if isinstance(error, ArgumentError):
        return f"it is not a database URL ({error})"
    # The driver's own first line says what went wrong (refused, no such database, denied).
    detail = _first_line(str(getattr(error, "orig", None) or error))
    if "does not exist" in detail and "database" in detail:
        return f"{detail}: create it first (e.g. `createdb`)"
    return detail


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else "unknown error"
    for noise in ("connection failed: ", "FATAL:  ", "FATAL: "):
        line = line.replace(noise, "")
    return line
