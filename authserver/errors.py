"""One JSON error shape for every endpoint (RFC 6749 §5.2 field names), and the app's error
handlers: a client never sees a traceback, and a database outage is a 503, not a 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import LimitedStream

from .resource_server import untrusted

log = logging.getLogger("authserver")
FORM = "application/x-www-form-urlencoded"


# The administration API answers RFC 9457 problem documents, for the errors the app raises
# before or around its views too (no such route, a NUL in the query, a body too large).
PROBLEM_PREFIX = "/admin/v1/"


class Unavailable(Exception):
    """A shared store the request needs does not answer (a 503, as a database outage is)."""


def prefers_html() -> bool:
    """A browser (its Accept puts text/html before JSON) rather than a program (curl and the
    OAuth libraries send */* or application/json, and keep getting JSON)."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def page_or_json(status: int, error: str, description: str, *, title: str, advice: str,
                 headers: dict[str, str] | None = None) -> Response:
    """An error outside the protocol (an unknown page, a wrong method, an outage) as a page
    for a browser and as the JSON error shape for a program."""
    if not prefers_html():
        return error_response(status, error, description, headers=headers)
    response = Response(render_template("error.html", title=title, message=description,
                                        advice=advice), status)
    response.headers.update(headers or {})
    return response


def error_response(status: int, error: str, description: str, *,
                   headers: dict[str, str] | None = None) -> Response:
    if has_request_context() and (request.path + "/").startswith(PROBLEM_PREFIX):
        response = jsonify(type="about:blank", title=error, status=status, detail=description)
        response.mimetype = "application/problem+json"
    else:
        response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # an error is about this request only
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class OutsideJSON(DefaultJSONProvider):
    """Flask's JSON, but request bodies (registration, the notes API, /admin/v1, passkeys) are
    outside input: one nested too deep, or holding half a surrogate pair, is malformed JSON,
    which `get_json(silent=True)` answers with None."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        with untrusted.parsing():
            return untrusted.whole_characters(s, super().loads(s, **kwargs))


def _refuse_nul_characters() -> Response | None:
    """No OAuth parameter may hold a NUL (RFC 6749 Appendix A allows none), and PostgreSQL
    text cannot store one: refuse it up front, the same on every backend. Looked for in the
    raw bytes (a NUL is `%00` or a raw 0 byte there), so no form or argument dict is built
    here; only a multipart body is read as a form."""
    mimetype = request.mimetype
    if (_holds_nul(request.query_string)
            or (mimetype == FORM and _holds_nul(request.get_data(cache=True)))
            or (mimetype == "multipart/form-data"
                and any("\x00" in name or any("\x00" in value for value in values)
                        for name, values in request.form.lists()))):
        return error_response(400, "invalid_request", "NUL characters are not allowed")
    return None


def _holds_nul(encoded: bytes) -> bool:
    return b"%00" in encoded or b"\x00" in encoded


def _read_the_rest_of_the_body(response: Response) -> Response:
    """Read what the view left of the request body (a JSON body at the token endpoint, a
    body refused before it was parsed). Left unread, Granian closes the keep-alive connection
    after the answer, not always saying so (`Connection: close`), and a client that sent its
    next request on it got no answer at all. Up to the length the body announced, within
    MAX_CONTENT_LENGTH (a longer one was refused unread, with a 413)."""
    length, limit = request.content_length, request.max_content_length
    if length and (limit is None or length <= limit):
        stream = request.stream
        if isinstance(stream, LimitedStream) and not stream.is_exhausted:
            stream.exhaust()
    return response


def _refuse_large_unframed_bodies() -> Response | None:
    """MAX_CONTENT_LENGTH, whatever the framing: werkzeug checks a Content-Length against it,
    but a chunked body has none, and its stream then ends quietly at the limit (the body was
    cut and processed). Read the server's own stream here, one byte past the limit, and keep
    what came for the form parser."""
    if not request.environ.get("CONTENT_TYPE") or request.content_length is not None:
        return None  # no body a parser would read (a GET), or a framed one
    limit = request.max_content_length
    if limit is None or not request.environ.get("wsgi.input_terminated"):
        return None  # no body werkzeug would read
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return error_response(413, "invalid_request", f"the body is larger than {limit} bytes")
    request._cached_data = body  # werkzeug's form parser reads the cached body if present
    return None


def install(app: Flask) -> None:
    app.before_request(_refuse_large_unframed_bodies)
    app.before_request(_refuse_nul_characters)
    app.after_request(_read_the_rest_of_the_body)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        if exc.response is not None:
            return exc.response  # it carries its own, already RFC-shaped, response
        code = exc.code or 500
        error = {
            400: "invalid_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "invalid_request",
        }.get(code, "server_error" if code >= 500 else "invalid_request")
        headers = {}
        if code == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return page_or_json(code, error, exc.description or exc.name, headers=headers,
                            title=gettext("Page not found") if code == 404 else exc.name,
                            advice=gettext("Check the address, or go back to the application "
                                           "you came from."))

    @app.errorhandler(DataError)
    def _unacceptable_value(exc: DataError) -> Response:
        # The database refused a value from the request (PostgreSQL text cannot hold NUL):
        # the client's input, not a server fault.
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    str(exc.orig).splitlines()[0])
        return error_response(400, "invalid_request", "a value in the request is not acceptable")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception) -> Response:
        # The database is unreachable or went away: a temporary condition, not a server bug.
        # The pool pings connections before use, so the next request after it returns works.
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(exc).splitlines()[0])
        return page_or_json(503, "temporarily_unavailable",
                            "the database is unavailable; retry shortly",
                            headers={"Retry-After": "5"}, title=gettext("Try again shortly"),
                            advice=gettext("The service is briefly unavailable. Reload the "
                                           "page in a few seconds."))

    @app.errorhandler(Unavailable)
    def _store_unavailable(exc: Unavailable) -> Response:
        return page_or_json(503, "temporarily_unavailable", str(exc),
                            headers={"Retry-After": "5"}, title=gettext("Try again shortly"),
                            advice=gettext("The service is briefly unavailable. Reload the "
                                           "page in a few seconds."))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Never a traceback to the client; the log has it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return page_or_json(500, "server_error", "the server could not complete the request",
                            title=gettext("Something went wrong"),
                            advice=gettext("Try again. If it keeps happening, tell the people "
                                           "who run this service."))
