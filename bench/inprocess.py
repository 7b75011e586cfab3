"""In-process figures on one core, each beside its ceiling measured in the same run:
token validation against the raw RSA-2048 verify, token issuance against the raw RSA-2048 sign.

    python -m bench.inprocess
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt

from authserver.config import Settings
from authserver.keystore import KeyStore
from authserver.oauth.access_tokens import AccessTokenGenerator, issuing
from authserver.oauth.resources import Target
from authserver.profiles import PLAIN
from authserver.resource_server import AccessTokenValidator, LocalKeys
from authserver.store.apis import ApiInfo

RUNS = 5


def rate(action: Callable[[], Any], seconds: float = 0.6) -> float:
    """Operations per second: the median of RUNS timed loops."""
    rates = []
    for _ in range(RUNS):
        count, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(50):
                action()
            count += 50
            now = time.perf_counter()
            if now >= deadline:
                break
        rates.append(count / (now - start))
    return statistics.median(rates)


def measure() -> dict[str, float]:
    directory = Path(tempfile.mkdtemp()) / "keys"
    settings = Settings(keys_dir=str(directory)).with_defaults()
    store = KeyStore.from_settings(settings)
    store.ensure()
    private = store.signing_key().private_key
    public = private.public_key()  # type: ignore[union-attr]
    message = b"x" * 400
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]

    generator = AccessTokenGenerator(settings, store)
    client = SimpleNamespace(
        get_client_id=lambda: "bench-client", client_id="bench-client", scope="profile",
        check_grant_type=lambda g: False, security_profile=PLAIN,
    )
    # What the grant sets before a token is generated: its API (the sample API) and scope.
    sample_api = Target(ApiInfo(audience=settings.api_audience, name="sample", scopes=(),
                                access_token_ttl=None, built_in=True), "profile")

    def issue() -> str:
        return generator.access_token(client, "client_credentials", None,
                                      issuing(sample_api, grant_id=None))[0]

    token = issue()
    # Every validation checks the signature (the cache of verified tokens is off)...
    validator = AccessTokenValidator(settings.issuer, settings.api_audience, LocalKeys(store),
                                     verified_cache_size=0)
    # ...and, as a resource server sees a client's token again, one seen before.
    remembering = AccessTokenValidator(settings.issuer, settings.api_audience, LocalKeys(store))
    public_set = store.public_keyset()

    def validate() -> None:
        validator.validate_token(validator.authenticate_token(token), ["profile"], None)

    def validate_again() -> None:
        remembering.validate_token(remembering.authenticate_token(token), ["profile"], None)

    figures = {
        "raw_rsa_verify_per_s": rate(
            lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        ),
        "joserfc_decode_per_s": rate(lambda: jwt.decode(token, public_set)),
        "validation_per_s": rate(validate),
        "validation_of_a_token_seen_before_per_s": rate(validate_again),
        "raw_rsa_sign_per_s": rate(
            lambda: private.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
        ),
        "issuance_per_s": rate(issue),
    }
    figures["validation_vs_raw_verify"] = figures["validation_per_s"] / figures["raw_rsa_verify_per_s"]
    figures["issuance_cost_vs_raw_sign"] = figures["raw_rsa_sign_per_s"] / figures["issuance_per_s"]
    return figures


def main() -> None:
    figures = measure()
    print(json.dumps({k: round(v, 3 if "_vs_" in k else 0) for k, v in figures.items()}, indent=2))


if __name__ == "__main__":
    main()
