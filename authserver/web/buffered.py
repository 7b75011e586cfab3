"""Responses whose body is already in memory go to the server as a list.

werkzeug hands every response to the server as a ClosingIterator, even a JSON body that is
one bytes object. Granian sends a list in one call (`response_bytes`) but walks any other
iterable chunk by chunk, calling back into Python for each: about 4 µs of server CPU a
request (a minimal app under Granian, measured alone; bench/RESULTS.md). WSGI allows either
(PEP 3333).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response


class BufferedResponse(Response):
    def get_app_iter(self, environ: Any) -> Iterable[bytes]:
        app_iter = super().get_app_iter(environ)
        # A body built in memory (a list of str or bytes), with nothing to run at close: the
        # list is the whole answer. Streams and files keep werkzeug's iterator and its close.
        if self.is_sequence and not self._on_close and not self.direct_passthrough:
            body = b"".join(app_iter)
            app_iter.close()  # type: ignore[attr-defined]
            return [body]
        return app_iter
