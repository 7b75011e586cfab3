"""Input from outside that Python's own tools would turn into a server fault instead of bad
input: JSON nested deeper than the parser recurses (json raises RecursionError, not
ValueError, so neither our `except ValueError` nor joserfc's or Flask's sees it), JSON whose
`\\uD800`-style escape is half a surrogate pair (json gives a str that no UTF-8 encoder,
psycopg's, SQLite's or argon2's, accepts), and text that is not ASCII compared in constant
time (hmac.compare_digest raises TypeError for such a str). Every parse of outside JSON (ours,
Flask's request bodies, joserfc's inside a JWT) and every comparison of an outside string
with a secret goes through here.

Written by hand: the standard library and joserfc leave both to their callers.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from joserfc.errors import DecodeError


class NestedTooDeep(DecodeError, ValueError):
    """JSON nested deeper than the parser goes: bad input. A joserfc DecodeError and a
    ValueError both, so that every caller's existing `except (JoseError, ValueError)` refuses
    it as it refuses any other malformed JSON or JWT."""

    error = "nested_too_deep"

    def __init__(self) -> None:
        super().__init__("the JSON is nested too deep")


class LoneSurrogate(DecodeError, ValueError):
    """A JSON string escape of half a UTF-16 surrogate pair: no character, so malformed text
    (RFC 8259 §8.2 allows it; nothing can store it). A ValueError, as NestedTooDeep is."""

    error = "lone_surrogate"

    def __init__(self) -> None:
        super().__init__("the JSON holds a \\u escape of half a surrogate pair (no character)")


# A \u escape of a surrogate (D800-DFFF): the only way JSON can give a lone one (raw UTF-8
# cannot encode them), so only a body holding one is checked, and a pair (one character) passes.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def whole_characters(data: str | bytes, value: Any) -> Any:
    """`value`, parsed from the JSON `data`, unless a string in it holds a lone surrogate."""
    pattern = _SURROGATE_ESCAPE if isinstance(data, str) else _SURROGATE_ESCAPE_BYTES
    if pattern.search(data):  # type: ignore[arg-type]
        return whole_text(value)
    return value


def whole_text(value: Any) -> Any:
    """`value` (JSON a library parsed: joserfc's claims) unless a string in it, a key
    included, holds a lone surrogate (LoneSurrogate)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise LoneSurrogate() from None
    return value


@contextmanager
def parsing() -> Iterator[None]:
    """Around a parse of outside JSON, by us or by a library: RecursionError there is the
    input's nesting, never our fault."""
    try:
        yield
    except RecursionError:
        raise NestedTooDeep() from None


def loads(data: str | bytes) -> Any:
    """json.loads for outside input: too deep, or half a surrogate pair, is a ValueError like
    any malformed JSON."""
    with parsing():
        return whole_characters(data, json.loads(data))


def same_text(given: Any, expected: str) -> bool:
    """Whether `given` (from outside: any type, any characters) is the secret `expected`, in
    constant time."""
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                          expected.encode("utf-8"))
