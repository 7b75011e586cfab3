"""The Flask app: wiring only. Database, store, key store, OAuth server and the one access
token validator are built once per app (each server worker builds its own)."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import context, errors
from .config import Settings
from .db import Database
from .keystore import KeyStore, KeyStoreError
from .oauth import create_server
from .oauth.dpop import replay_cache
from .oauth.metadata import server_metadata
from .oauth.resources import OurApisValidator
from .ops import audit, metrics, openapi, security_headers
from .ops.mail import Mailer
from .ops.ratelimit import FailureThrottle, limits_with
from .resource_server import AccessTokenValidator, LocalKeys
from .resource_server.dpop import Nonces
from .store import Store
from .store.apis import admin_audience
from .web import (
    account,
    account_actions,  # noqa: F401 (its routes are the account blueprint's)
    account_links,
    account_mfa,  # noqa: F401 (its routes are the account blueprint's)
    account_passkeys,  # noqa: F401 (its routes are the account blueprint's)
    admin,
    api,
    authorize,
    buffered,
    cors,
    device,
    federation,
    health,
    home,
    i18n,
    interaction,
    interaction_factors,  # noqa: F401 (its routes are the interaction blueprint's)
    logout,
    mails,
    oauth,
    passkey_second_factor,  # noqa: F401 (its routes are the interaction's and the account's)
    passkey_signin,  # noqa: F401 (its routes are the interaction's and the account's)
    register,
    routing,
    session,
    signup,
    theme,
    userinfo,
    wellknown,
)

# Token requests are small forms; anything larger is refused before it is parsed.
MAX_CONTENT_LENGTH = 64 * 1024


def build_app(settings: Settings) -> Flask:
    app = Flask("authserver")
    app.url_rule_class = routing.LazyBuilderRule  # before any blueprint adds its rules
    app.response_class = buffered.BufferedResponse
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # No redirect from //a to /a: werkzeug builds its Location from the request's Host header,
    # and every absolute URL we write must come from the configured issuer.
    app.url_map.merge_slashes = False
    app.json = errors.OutsideJSON(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if settings.allow_insecure_issuer:
        # The operator allowed a plain-http issuer (config.py checked it): Authlib, which
        # otherwise refuses http off loopback, is told so by its own switch.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    database = Database(settings)
    store = Store(database)
    keystore = KeyStore.from_settings(settings)
    keystore.load()
    if keystore.missing_algs():
        # serve's start (KeyStore.ensure) makes a newly configured algorithm's first keys.
        raise KeyStoreError(f"{keystore.where} has no key for {' '.join(keystore.missing_algs())}"
                            ": run `authserver keys rotate` or start `authserver serve` once")
    # DPoP server nonces, from the secret every worker and host shares (the session key's).
    nonces = (Nonces(session.ensure_secret_key(settings).encode(), clock=lambda: store.clock())
              if settings.dpop_nonce
              else None)
    validator = AccessTokenValidator(
        settings.issuer, settings.api_audience, LocalKeys(keystore), leeway=settings.leeway,
        clock=store.now,  # one clock for the whole app (tests move it instead of sleeping)
        dpop_replay=replay_cache(store),  # DPoP proofs' jti, shared by workers and hosts
        dpop_nonces=nonces,
    )
    admin_validator = AccessTokenValidator(
        settings.issuer, admin_audience(settings.issuer), LocalKeys(keystore),
        leeway=settings.leeway, clock=store.now, dpop_replay=replay_cache(store),
        dpop_nonces=nonces,
    )
    # Userinfo, introspection and revocation serve tokens for every registered API.
    own_validator = OurApisValidator(
        settings.issuer, settings.api_audience, LocalKeys(keystore), leeway=settings.leeway,
        clock=store.now, registry=store.apis.registry, dpop_replay=replay_cache(store),
        dpop_nonces=nonces,
    )
    app.extensions.update({
        context.SETTINGS: settings,
        context.DATABASE: database,
        context.STORE: store,
        context.KEYSTORE: keystore,
        context.VALIDATOR: validator,
        context.OWN_VALIDATOR: own_validator,
        context.ADMIN_VALIDATOR: admin_validator,
        context.OAUTH_SERVER: create_server(settings, keystore, store, own_validator,
                                            nonces),
        context.THROTTLE: FailureThrottle(
            settings.ratelimit_storage_url, limits_with(settings.wrong_code_limit)),
        context.METADATA: server_metadata(settings.issuer,
                                          registration=settings.registration != "off",
                                          require_par=settings.require_par,
                                          signing_algs=settings.signing_algs),
    })
    if settings.smtp_url:
        app.extensions[mails.MAILER] = Mailer(settings.smtp_url, settings.mail_from,
                                              settings.smtp_timeout)
    i18n.install(app)
    theme.install(app, settings.theme_dir)
    audit.configure(settings.audit_log)
    if settings.trusted_proxies:
        # remote_addr (throttling, audit) and the scheme come from the proxies we trust only.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    session.configure_sessions(app, settings)
    cors.install(app)
    metrics.install(app, keystore)
    for blueprint in (wellknown.bp, oauth.bp, authorize.bp, interaction.bp, logout.bp,
                      userinfo.bp, api.bp, health.bp, register.bp, device.bp, admin.bp,
                      federation.bp, account.bp, account_links.bp, signup.bp, home.bp):
        app.register_blueprint(blueprint)
    app.extensions[context.OPENAPI] = openapi.build(app, settings.issuer)

    @app.teardown_appcontext
    def _end_unit_of_work(_exc: BaseException | None) -> None:
        # Whatever the request did not commit (a failed request) is rolled back here.
        store.close()

    errors.install(app)
    https = settings.issuer.startswith("https://")
    security_headers.install(app, hsts_max_age=settings.hsts_max_age if https else 0)
    return app
