"""Helpers of the self-service tests: an app with mail (a real SMTP server) and sign-up open,
and the forms a person fills in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from authserver import create_app
from authserver.config import Settings

from .helpers import csrf
from .mail_server import Inbox

MAIL_WAIT = 10.0  # seconds the background sender may take to hand a mail over


def mail_app(settings: Settings, smtp_url: str, **changes: Any) -> Flask:
    return create_app(settings.override(**{"smtp_url": smtp_url, "signup": "open",
                                           "smtp_timeout": 2, **changes}))


def delivered(app: Flask) -> None:
    """Wait until the worker's mail queue is empty (the mail was handed over, or failed)."""
    assert app.extensions["authserver.mailer"].wait_until_sent(MAIL_WAIT)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def post_form(client: FlaskClient, path: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
    """GET the page for its CSRF token, then POST the form with it."""
    page = client.get(path, **kwargs)
    return client.post(path, data={**data, "csrf_token": csrf(page.get_data(as_text=True))},
                       **kwargs)


def sign_up(client: FlaskClient, username: str, email: str,
            password: str = "a fine password") -> TestResponse:
    return post_form(client, "/account/signup",
                     {"username": username, "email": email, "password": password})


def sign_in(client: FlaskClient, username: str, password: str) -> TestResponse:
    return post_form(client, "/account/login", {"username": username, "password": password})


def open_link(client: FlaskClient, app: Flask, inbox: Inbox, address: str) -> TestResponse:
    delivered(app)
    return client.get(path_of(inbox.last_link(address)))


def account_form(client: FlaskClient, path: str, data: dict[str, str]) -> TestResponse:
    """A form of the account page, posted with the page's CSRF token."""
    page = client.get("/account")
    assert page.status_code == 200, page.status_code
    return client.post(path, data={**data, "csrf_token": csrf(page.get_data(as_text=True))})
