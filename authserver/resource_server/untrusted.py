"""Input from outside that Python's own tools would turn into a server fault instead of bad
input: JSON nested deeper than the parser recurses (json raises RecursionError, not
ValueError, so neither our `except ValueError` nor joserfc's or Flask's sees it), and text
that is not ASCII compared in constant time (hmac.compare_digest raises TypeError for such a
str). Every parse of outside JSON (ours, Flask's request bodies, joserfc's inside a JWT) and
every comparison of an outside string with a secret goes through here.

Written by hand: the standard library and joserfc leave both to their callers.
"""

from __future__ import annotations

import hmac
import json
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


@contextmanager
def parsing() -> Iterator[None]:
    """Around a parse of outside JSON, by us or by a library: RecursionError there is the
    input's nesting, never our fault."""
    try:
        yield
    except RecursionError:
        raise NestedTooDeep() from None


def loads(data: str | bytes) -> Any:
    """json.loads for outside input: too deep is a ValueError like any malformed JSON."""
    with parsing():
        return json.loads(data)


def same_text(given: Any, expected: str) -> bool:
    """Whether `given` (from outside: any type, any characters) is the secret `expected`, in
    constant time."""
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                          expected.encode("utf-8"))
