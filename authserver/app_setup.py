"""Wiring of the Flask app: database, key store, OAuth server, blueprints, JSON errors."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import audit, metrics, openapi, security_headers
from .config import Settings
from .db import Database
from .keystore import KeyStore
from .login_session import configure_sessions
from .oauth2 import create_server
from .ratelimit import FailureThrottle
from .resource import AccessTokenValidator, LocalKeys
from .views import api, authorize, health, oauth, userinfo, wellknown
from .views.protect import VALIDATOR_KEY

log = logging.getLogger("authserver")

# Token requests are small forms; anything larger is refused before it is parsed.
MAX_CONTENT_LENGTH = 64 * 1024


def build_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.json.sort_keys = False  # type: ignore[attr-defined]

    database = Database(settings)
    keystore = KeyStore.from_settings(settings)
    keystore.load()
    app.extensions["authserver.settings"] = settings
    app.extensions["authserver.db"] = database
    app.extensions["authserver.keystore"] = keystore
    app.extensions["authserver.oauth2"] = create_server(app, settings, keystore)
    app.extensions["authserver.throttle"] = FailureThrottle(settings.ratelimit_storage_url)
    audit.configure(settings.audit_log)
    if settings.trusted_proxies:
        # remote_addr (throttling, audit) and the scheme come from the proxies we trust only.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.extensions[VALIDATOR_KEY] = AccessTokenValidator(
        settings.issuer, settings.api_audience, LocalKeys(keystore), leeway=settings.leeway
    )

    configure_sessions(app, settings)
    metrics.install(app)
    for blueprint in (wellknown.bp, oauth.bp, authorize.bp, userinfo.bp, api.bp, health.bp):
        app.register_blueprint(blueprint)

    app.extensions["authserver.metadata"] = _published_metadata(app, settings)
    app.extensions["authserver.openapi"] = openapi.build(app, settings.issuer)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        # Uncommitted work (a failed request) is rolled back here.
        database.scoped.remove()

    _register_error_handlers(app)
    security_headers.install(app)
    return app


def _published_metadata(app: Flask, settings: Settings) -> dict[str, Any]:
    """Discovery lists an endpoint only if this app really serves it."""
    served = {rule.rule for rule in app.url_map.iter_rules()}
    metadata = wellknown.server_metadata(settings.issuer)
    prefix = len(settings.issuer)
    for key in [k for k in metadata if k.endswith("_endpoint") or k == "jwks_uri"]:
        if metadata[key][prefix:] not in served:
            del metadata[key]
    if "authorization_endpoint" not in metadata:
        for key in ("response_types_supported", "response_modes_supported"):
            metadata[key] = []
        metadata["grant_types_supported"] = [
            g for g in metadata["grant_types_supported"] if g != "authorization_code"
        ]
    return metadata


def _error_json(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # an error is about this request only
    return response


def _refuse_nul_characters() -> Response | None:
    """No OAuth parameter may hold a NUL (RFC 6749 Appendix A allows none), and PostgreSQL
    text cannot store one: refuse it up front, the same on every backend."""
    # A request without a Content-Type has no form (werkzeug would build an empty one).
    sources = (request.args, request.form) if request.content_type else (request.args,)
    for values in sources:
        for value in values.values():
            if "\x00" in value:
                return _error_json(400, "invalid_request", "NUL characters are not allowed")
    return None


def _register_error_handlers(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)

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
        response = _error_json(code, error, exc.description or exc.name)
        if code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DataError)
    def _unacceptable_value(exc: DataError) -> Response:
        # The database refused a value from the request (PostgreSQL text cannot hold NUL):
        # the client's input, not a server fault.
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    str(exc.orig).splitlines()[0])
        return _error_json(400, "invalid_request", "a value in the request is not acceptable")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception) -> Response:
        # The database is unreachable or went away: a temporary condition, not a server bug.
        # The pool pings connections before use, so the next request after it returns works.
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(exc).splitlines()[0])
        response = _error_json(
            503, "temporarily_unavailable", "the database is unavailable; retry shortly"
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Never a traceback to the client; the log has it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_json(500, "server_error", "the server could not complete the request")
