"""Passkeys in Chromium (Playwright, Debian's package) with a CDP virtual authenticator
(WebAuthn.addVirtualAuthenticator: CTAP2, internal, resident keys, user verification) against
a real `authserver serve` at http://localhost:PORT: added and named at /account, a
passwordless sign-in from the login page to a code and an ID token (amr swk, user, mfa),
removal, another user's sign-in refused, a replayed answer and a counter gone back refused;
then the passkey pages at 390 and 1280 px, English and Korean, light and dark (screenshots in
test-artifacts/passkeys/)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from .helpers import PASSWORD, pkce
from .support import ServerProcess, copy_keys, free_port, start_server
from .test_pages import AXE_RUN, axe_script  # noqa: F401 (the fixture: axe-core from npm)

REDIRECT = "http://127.0.0.1:9/cb"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "passkeys"
AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("passkeys")
    port = free_port()
    process = start_server(workdir, database_url=f"sqlite:///{workdir / 'p.db'}",
                           keys_dir=copy_keys(key_template, workdir), workers=1, port=port,
                           issuer=f"http://localhost:{port}")
    try:
        yield process
    finally:
        process.stop()


def issuer(server: ServerProcess) -> str:
    return server.env["AUTHSERVER_ISSUER"]


def new_user(server: ServerProcess) -> tuple[str, str]:
    """A new user: (username, sub)."""
    username = f"pk{secrets.token_hex(4)}"
    created = server.cli_json("user", "create", "--username", username, "--password-stdin",
                              stdin=PASSWORD + "\n")
    return username, created["sub"]


def with_authenticator(page: Any) -> tuple[Any, str]:
    """A virtual authenticator for this page: the CDP session and its id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def password_sign_in(page: Any, server: ServerProcess, username: str) -> None:
    """The account's sign-in with the password, then the passkey when the user has one (a
    second factor: the password alone does not sign them in)."""
    page.goto(issuer(server) + "/account/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#passkeys-h, #passkey-second-factor")
    if page.locator("#passkey-second-factor").count():
        # No app: the passkey first, no app's code (a recovery code's field below).
        assert page.locator("input[autocomplete=one-time-code]").count() == 0
        page.click("#passkey-second-factor")
        page.wait_for_selector("#passkeys-h")


def add_passkey(page: Any, name: str, on_codes: Callable[[Any], None] | None = None) -> None:
    """Adds a passkey at /account; the first one's recovery codes, shown in place of the page
    (`on_codes` looks at them), are acknowledged."""
    page.fill("#passkey-new-name", name)
    page.click("#passkey-add")
    page.wait_for_function("name => { const codes = document.getElementById('passkey-recovery-"
                           "codes'); return (codes && !codes.hidden) || "
                           "document.body.innerText.includes('“' + name + '”'); }", arg=name)
    if page.locator("#passkey-recovery-codes:not([hidden])").count():
        assert page.locator("#passkey-recovery-codes li code").count() == 10
        assert page.locator("#passkeys-h").is_hidden()  # the codes alone
        if on_codes is not None:
            on_codes(page)
        page.click("#passkey-recovery-codes a.button")
    page.wait_for_selector(f"text=“{name}”")  # the notice that it was added


def authorize_url(server: ServerProcess, client_id: str, challenge: str, **extra: str) -> str:
    return issuer(server) + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256", **extra})


def catch_redirects(page: Any) -> list[str]:
    landed: list[str] = []

    def fulfil(route: Any) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, body="redirected", content_type="text/plain")

    page.route(lambda target: target.startswith(REDIRECT), fulfil)
    return landed


def id_token(server: ServerProcess, client_id: str, code: str, verifier: str) -> dict[str, Any]:
    tokens = server.http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier}).json()
    keys = jwt.PyJWKClient(server.base_url + "/.well-known/jwks.json")
    token = tokens["id_token"]
    return jwt.decode(token, keys.get_signing_key_from_jwt(token).key,
                      algorithms=["RS256", "PS256", "ES256", "EdDSA"], audience=client_id,
                      issuer=issuer(server))


def test_a_passkey_added_at_the_account_signs_in_from_the_login_page_and_can_be_removed(
        server: ServerProcess, chromium_browser: Any) -> None:
    username, sub = new_user(server)
    _, other_sub = new_user(server)
    spa = server.cli_json("client", "create", "--name", "Passkey SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = chromium_browser
    context = browser.new_context()
    page = context.new_page()
    cdp, authenticator = with_authenticator(page)
    # Registration and naming at /account.
    password_sign_in(page, server, username)
    add_passkey(page, "Chromium key")
    passkey_id = page.get_attribute("form.rename input[name=passkey]", "value")
    page.fill(f"#passkey-name-{passkey_id}", "Renamed key")
    page.click("form.rename button[type=submit]")
    page.wait_for_selector("text=The passkey was renamed.")
    assert page.input_value(f"#passkey-name-{passkey_id}") == "Renamed key"
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"

    # A passwordless sign-in from the login page: a code, and an ID token that says how.
    context.clear_cookies()
    landed = catch_redirects(page)
    verifier, challenge = pkce()
    page.goto(authorize_url(server, spa["client_id"], challenge))
    verify_requests: list[Any] = []
    page.on("request", lambda r: verify_requests.append(r) if r.url.endswith("/passkey") else None)
    page.click("#passkey-signin")
    page.wait_for_selector("button[value=allow]")
    page.click("button[value=allow]")
    page.wait_for_url(REDIRECT + "**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}
    claims = id_token(server, spa["client_id"], params["code"], verifier)
    assert claims["sub"] == sub
    assert claims["amr"] == ["swk", "user", "mfa"]
    assert claims["acr"] == "phr"

    # The same answer again, from this browser and from another: refused.
    [sent] = verify_requests
    again = page.request.post(sent.url, data=sent.post_data, headers={
        "Content-Type": "application/json", "X-CSRF-Token": sent.headers["x-csrf-token"]})
    assert again.status in (400, 403)  # the interaction ended, the session is a new one
    page.goto(issuer(server) + "/account")
    replayed = page.request.post(issuer(server) + "/account/login/passkey",
                                 data=sent.post_data, headers={
                                     "Content-Type": "application/json",
                                     "X-CSRF-Token": page.get_attribute(
                                         "input[name=csrf_token]", "value")})
    assert replayed.status == 400 and replayed.json()["error"] == "invalid_challenge"
    elsewhere = browser.new_context()
    stranger = elsewhere.new_page()
    stranger.goto(issuer(server) + "/account/login")
    token = stranger.get_attribute("input[name=csrf_token]", "value")
    stolen = stranger.request.post(issuer(server) + "/account/login/passkey",
                                   data=sent.post_data, headers={
                                       "Content-Type": "application/json",
                                       "X-CSRF-Token": token})
    assert stolen.status == 400 and stolen.json()["error"] == "invalid_challenge"
    malformed = stranger.request.post(issuer(server) + "/account/login/passkey",
                                      data="{nope", headers={
                                          "Content-Type": "application/json",
                                          "X-CSRF-Token": token})
    assert malformed.status == 400 and malformed.json()["error"] == "invalid_request"
    elsewhere.close()

    # A request for another end-user: this passkey is not theirs, so nobody is signed in.
    context.clear_cookies()
    _, challenge = pkce()
    url = authorize_url(server, spa["client_id"], challenge, claims=json.dumps(
        {"id_token": {"sub": {"value": other_sub}}}))
    page.goto(url)
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "another account" in page.inner_text("#passkey-signin-error")
    assert "Sign in" in page.inner_text("h1")

    # The authenticator's counter goes back (a cloned key): refused.
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator,
                                           "credentialId": stored["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **{k: stored[k] for k in ("credentialId", "isResidentCredential", "rpId",
                                  "privateKey", "userHandle")}, "signCount": 0}})
    context.clear_cookies()
    page.goto(issuer(server) + "/account/login")
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "not accepted" in page.inner_text("#passkey-signin-error")

    # Removed at /account (signed in with the password and the real key, its counter
    # ahead again): it no longer signs in.
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator,
                                           "credentialId": stored["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **{k: stored[k] for k in ("credentialId", "isResidentCredential", "rpId",
                                  "privateKey", "userHandle")}, "signCount": 1000}})
    password_sign_in(page, server, username)
    page.click("form[action$='/passkeys/remove'] button[type=submit]")
    page.wait_for_selector("text=The passkey was removed.")
    assert page.locator("form.rename").count() == 0
    context.clear_cookies()
    page.goto(issuer(server) + "/account/login")
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "not accepted" in page.inner_text("#passkey-signin-error")


def age_sign_ins(server: ServerProcess, seconds: int = 600) -> None:
    """Every sign-in made `seconds` earlier (web/recent_sign_in.py asks for the password)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(server.env["AUTHSERVER_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "UPDATE login_sessions SET auth_time = auth_time - :s"), {"s": seconds})
    engine.dispose()


def _fits(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _every_look(page: Any, axe: Path, name: str) -> None:
    """At 1280 and 390 px, light and dark (the same page: its viewport and colour scheme
    emulated, not loaded again): no sideways scroll, and axe-core's WCAG 2 A and AA checks
    (contrast, labels) find nothing; a screenshot of each."""
    page.add_script_tag(path=str(axe))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            _fits(page)
            assert page.evaluate(AXE_RUN) == [], (page.url, width, scheme)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"),
                            full_page=True)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_passkey_pages_fit_390_and_1280_pixels_light_and_dark(
        server: ServerProcess, chromium_browser: Any, axe_script: Path, lang: str) -> None:  # noqa: F811
    spa = server.cli_json("client", "create", "--name", "Pages SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = chromium_browser
    context = browser.new_context(
        locale="ko-KR" if lang == "ko" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True)  # for axe's script only: ours is 'self' anyway
    page = context.new_page()
    with_authenticator(page)
    username, _ = new_user(server)
    page.goto(issuer(server) + "/account/login")
    page.wait_for_selector("#passkey-signin")
    _every_look(page, axe_script, f"login-{lang}")
    password_sign_in(page, server, username)
    add_passkey(page, "노트북 키" if lang == "ko" else "Laptop key",
                lambda page: _every_look(page, axe_script, f"first-passkey-codes-{lang}"))
    page.fill("form.rename input[name=name]", "")
    page.click("form.rename button[type=submit]")
    page.wait_for_selector(".rename .field-error")
    assert page.locator("html").get_attribute("lang") == lang
    _every_look(page, axe_script, f"account-{lang}")
    # Long after the sign-in, adding a factor asks for the password beside it.
    age_sign_ins(server)
    page.goto(issuer(server) + "/account")
    page.click("#passkey-add")
    page.wait_for_selector("#passkey-add-error:not([hidden])")
    assert page.locator("#passkey-password").count() == 1
    page.click("#totp-add")
    page.wait_for_selector("#totp_setup_password-error")
    _every_look(page, axe_script, f"account-old-sign-in-{lang}")
    # The second step after the password, when a passkey is asked for.
    context.clear_cookies()
    _, challenge = pkce()
    page.goto(authorize_url(server, spa["client_id"], challenge, acr_values="phr"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#passkey-second-factor")
    _every_look(page, axe_script, f"second-step-{lang}")
    # A wrong recovery code: its error beside the field.
    page.fill("#code", "aaaa-aaaa-aaaa-aaaa")
    page.click("form:has(#code) button[type=submit]")
    page.wait_for_selector("#code-error")
    assert page.get_attribute("#code", "aria-describedby") == "code-error"
    _every_look(page, axe_script, f"second-step-recovery-error-{lang}")
    context.close()


def test_an_ip_issuer_account_page_says_why(tmp_path: Path, key_template: Path,
                                            chromium_browser: Any) -> None:
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'ip.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1)
    try:
        username, _ = new_user(server)
        browser = chromium_browser
        page = browser.new_page(viewport={"width": 390, "height": 900})
        page.goto(server.base_url + "/account/login")
        assert page.locator("#passkey-signin").count() == 0
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_selector("#passkeys-unavailable")
        assert "http://localhost:5000" in page.inner_text("#passkeys-unavailable")
        _fits(page)
        page.screenshot(path=str(ARTIFACTS / "account-ip-issuer-390.png"), full_page=True)
    finally:
        server.stop()


def test_a_passkey_is_the_second_factor_after_the_password(
        server: ServerProcess, chromium_browser: Any) -> None:
    """acr_values=phr asks the user who can reach it for more than the password: the second
    step offers the passkey, and the ID token says both (amr pwd, swk, user, mfa; acr phr)."""
    username, sub = new_user(server)
    spa = server.cli_json("client", "create", "--name", "Second factor SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    browser = chromium_browser
    context = browser.new_context()
    page = context.new_page()
    with_authenticator(page)
    password_sign_in(page, server, username)
    add_passkey(page, "Second factor key")
    context.clear_cookies()
    landed = catch_redirects(page)
    verifier, challenge = pkce()
    page.goto(authorize_url(server, spa["client_id"], challenge, acr_values="phr"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#passkey-second-factor")
    assert page.locator("input[autocomplete=one-time-code]").count() == 0  # no app
    page.screenshot(path=str(ARTIFACTS / "second-factor-passkey.png"), full_page=True)
    page.click("#passkey-second-factor")
    page.wait_for_selector("button[value=allow]")
    page.click("button[value=allow]")
    page.wait_for_url(REDIRECT + "**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}
    claims = id_token(server, spa["client_id"], params["code"], verifier)
    assert claims["sub"] == sub
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"] and claims["acr"] == "phr"
