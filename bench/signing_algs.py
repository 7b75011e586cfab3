"""client_credentials with ES256 and EdDSA as the default signing algorithm against RS256 (and
PS256), in one run: in process (each algorithm's token issuance beside its raw signature,
both on one core), and over HTTP (`authserver serve`, 2 workers, SQLite, one server per
algorithm) beside node oidc-provider signing ES256, the loads taken in turns.

    python -m bench.signing_algs [--seconds 5] [--runs 3] [--no-http]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from authserver.config import Settings
from authserver.keystore import SIGNING_ALGS, KeyStore
from authserver.oauth.access_tokens import AccessTokenGenerator, issuing
from authserver.oauth.resources import Target
from authserver.profiles import PLAIN
from authserver.store.apis import ApiInfo

from .inprocess import rate

COMPARED = ("RS256", "ES256", "EdDSA")


def raw_signer(private: Any, alg: str) -> Any:
    """The bare cryptography call each algorithm's JWS signature makes (RFC 7518 §3.3-3.5,
    RFC 8037 §3.1), on a message of a token's size."""
    message = b"x" * 400
    if alg == "RS256":
        return lambda: private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return lambda: private.sign(message, pss, hashes.SHA256())
    if alg == "ES256":
        return lambda: private.sign(message, ec.ECDSA(hashes.SHA256()))
    return lambda: private.sign(message)


def in_process() -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(directory, algs=SIGNING_ALGS).ensure()
    client = SimpleNamespace(
        get_client_id=lambda: "bench-client", client_id="bench-client", scope="profile",
        check_grant_type=lambda g: False, security_profile=PLAIN,
    )
    figures: dict[str, Any] = {}
    for alg in SIGNING_ALGS:
        settings = Settings(keys_dir=str(directory), signing_algs=(alg,)).with_defaults()
        store = KeyStore.from_settings(settings)
        store.load()
        generator = AccessTokenGenerator(settings, store)
        target = Target(ApiInfo(audience=settings.api_audience, name="sample", scopes=(),
                                access_token_ttl=None, built_in=True), "profile")

        def issue(generator: AccessTokenGenerator = generator, target: Target = target) -> str:
            return generator.access_token(client, "client_credentials", None,
                                          issuing(target, grant_id=None))[0]

        token = issue()
        assert token.count(".") == 2
        sign = rate(raw_signer(store.signing_key(alg).private_key, alg))
        issued = rate(issue)
        figures[alg] = {"raw_sign_per_s": round(sign), "issuance_per_s": round(issued),
                        "issuance_cost_vs_raw_sign": round(sign / issued, 3),
                        "token_bytes": len(token)}
    base = figures["RS256"]
    for alg in SIGNING_ALGS:
        figures[alg]["issuance_vs_rs256"] = round(figures[alg]["issuance_per_s"]
                                                  / base["issuance_per_s"], 3)
        figures[alg]["raw_sign_vs_rs256"] = round(figures[alg]["raw_sign_per_s"]
                                                  / base["raw_sign_per_s"], 3)
    return figures


def over_http(seconds: int, runs: int) -> dict[str, Any]:
    from .http import FORM, authserver, client_credentials
    from .loadgen import cpu_ratio, interleaved, metered, wrk
    from .peer import oidc_provider

    with ExitStack() as servers:
        loads = {}
        for alg in COMPARED:
            server = servers.enter_context(authserver(
                f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2,
                env={"AUTHSERVER_SIGNING_ALGS": alg}))
            loads[f"client_credentials_{alg}"] = metered(client_credentials(server, seconds),
                                                         server.process.pid)
        peer = servers.enter_context(oidc_provider("ES256"))
        loads["oidc_provider_ES256"] = metered(lambda: wrk(
            url=peer.token_url, method="POST", body=peer.body,
            headers={"Content-Type": FORM, "Authorization": peer.authorization},
            seconds=seconds), peer.pid)
        results = interleaved(loads, runs)
        figures = {name: result.as_dict() for name, result in results.items()}
    rps = {name: figure["rps"] for name, figure in figures.items()}
    rs256 = rps["client_credentials_RS256"]
    ratios = {f"{alg}_vs_RS256": rps[f"client_credentials_{alg}"] / rs256 for alg in COMPARED}
    ratios.update({f"{alg}_vs_oidc_provider_ES256":
                   rps[f"client_credentials_{alg}"] / rps["oidc_provider_ES256"]
                   for alg in COMPARED})
    ratios.update({f"{alg}_vs_oidc_provider_ES256_by_cpu":
                   cpu_ratio(results, "oidc_provider_ES256", f"client_credentials_{alg}")
                   for alg in COMPARED})
    return {**figures, "ratios": {k: round(v, 3) for k, v in ratios.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-http", action="store_true", help="in process only")
    args = parser.parse_args()
    result: dict[str, Any] = {"in_process": in_process()}
    if not args.no_http:
        result["http"] = over_http(args.seconds, args.runs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
