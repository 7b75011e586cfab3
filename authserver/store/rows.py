"""The operator's rows by key: what an operation (operations/) adds, removes, looks up, lists
and pages through, in the caller's session and transaction. The rules are the operation's; the
SQL is here, so operations never build a query.

Each write is flushed at once: a constraint refuses it inside the operation (the caller then
rolls back), not later at the commit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def add(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def remove(session: Session, row: object) -> None:
    session.delete(row)
    session.flush()


def remove_where(session: Session, model: type[Any], **equal: Any) -> None:
    """Every row of `model` with these column values (one DELETE, no rows loaded)."""
    session.execute(delete(model).filter_by(**equal))


def save(session: Session) -> None:
    """What the operation changed on rows it loaded, written now."""
    session.flush()


def by_key(session: Session, model: type[T], key: Any) -> T | None:
    return session.get(model, key)


def first(session: Session, model: type[T], **equal: Any) -> T | None:
    """The row of `model` with these column values (a unique one), or None."""
    return session.scalar(select(model).filter_by(**equal))


def every(session: Session, model: type[T], *order: str, **equal: Any) -> list[T]:
    """Every row of `model` with these column values, in the order of the columns named (in
    the database's own order when none is)."""
    query = select(model).filter_by(**equal).order_by(*(getattr(model, name) for name in order))
    return list(session.scalars(query))


def after(session: Session, model: type[T], key: int | None, count: int, **equal: Any
          ) -> list[T]:
    """At most `count` rows of `model` with these column values whose primary key is above
    `key`, in key order: one keyset page (operations/pages.py)."""
    column = inspect(model).primary_key[0]
    query = select(model).filter_by(**equal)
    if key is not None:
        query = query.where(column > key)
    return list(session.scalars(query.order_by(column).limit(count)))
