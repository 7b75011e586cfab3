"""Keyset pagination for the list operations: a page of rows after a cursor.

The cursor is the last row's primary key (opaque to callers): a row inserted while a caller
walks the list gets a larger key, so the walk sees every row that existed when it started
exactly once, and never one twice (an offset would shift under inserts). Written by hand: a
`WHERE id > :after ORDER BY id LIMIT n` is all it takes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..store import Session
from ..store.rows import after
from .errors import BadInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"k{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        # At most 18 digits: every key fits a signed 64-bit integer (SQLite's and BIGINT),
        # so no key the database compares with overflows.
        if not text.startswith("k") or not text[1:].isdigit() or len(text) > 19:
            raise ValueError
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeError):
        raise BadInput("cursor is not one this server gave", field="cursor") from None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    return limit


def page(session: Session, model: type[Any], to_dict: Callable[[Any], dict[str, Any]], *,
         limit: int | None, cursor: str | None, **equal: Any) -> Page:
    """The rows of `model` (with `equal`'s column values) after `cursor` in key order, `limit`
    of them at most."""
    limit = check_limit(limit)
    key = decode_cursor(cursor) if cursor is not None else None
    rows = after(session, model, key, limit + 1, **equal)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].id if rows and more else None
    return Page([to_dict(row) for row in rows],
                encode_cursor(last) if last is not None else None)
