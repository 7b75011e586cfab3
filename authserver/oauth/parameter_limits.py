"""How long an authorization request's parameters may be: every one at most MAX_LENGTH
characters (state, nonce, login_hint, claims, ...), checked before anything is stored or
carried into a page or a redirect. Nothing in the specifications bounds them; a client has no
use for a longer one, and a 20 KB state would otherwise be echoed into the redirect.

Written by hand (no library bounds parameters). One self-contained check, for the
authorization endpoint and PAR alike."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from ..policy import shown

MAX_LENGTH = 4096  # characters, for every parameter's name and value
# A signed request object carries the whole request; the body limit (64 KiB) bounds it, and
# its claims are checked here once it is verified.
UNBOUNDED = frozenset({"request"})


def check_parameter_lengths(params: Any) -> None:
    """Raises invalid_request naming the first parameter (a dict, or a MultiDict with every
    value of a name) longer than MAX_LENGTH. The error carries the request's state only when
    that is short: an overlong state is never echoed back."""
    pairs = params.lists() if hasattr(params, "lists") else params.items()
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        too_long = len(name) > MAX_LENGTH or (name not in UNBOUNDED and any(
            isinstance(v, str) and len(v) > MAX_LENGTH for v in values))
        if too_long:
            state = params.get("state")
            raise InvalidRequestError(
                f"the parameter {shown(name, 40)!r} is longer than {MAX_LENGTH} characters",
                state=state if isinstance(state, str) and len(state) <= MAX_LENGTH else None)
