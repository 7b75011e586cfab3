"""URL rules whose URL builders are compiled when first used.

werkzeug compiles two Python functions for every rule when the rule is added (one for
url_for with known arguments, one with unknown arguments appended), through the ast module.
The app has over a hundred rules and builds URLs for a few dozen, and compiling them all was
more than half of building the app (33 of 59 ms): every `authserver` command, every server
worker and every in-process test paid it. Nothing in werkzeug or Flask defers it, so this
subclass does, with werkzeug's own compiler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

# These builders compile one at a time: CPython 3.11 can fail when two threads turn ast trees
# into code at once ("AST constructor recursion depth mismatch", python/cpython#106905), and
# the first url_for of a rule may come from any request thread. (It does not order them with
# other code's compiles; werkzeug compiled these at start-up, in one thread, before.)
_compiling = threading.Lock()


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: Callable[..., tuple[str, str]] | None = None

        # `rule` positional-only: the URL's values come as keywords, and one may be "rule".
        def build(rule: Rule, /, *args: Any, **kwargs: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:
                with _compiling:
                    if compiled is None:
                        compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, *args, **kwargs)

        return build
