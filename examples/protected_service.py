"""Another Flask service protected by authserver tokens, knowing nothing but the issuer URL.

    ISSUER=http://127.0.0.1:5000 python examples/protected_service.py --port 5100
    curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:5100/hello

The protector finds the JWKS through discovery, caches the keys as the issuer's
Cache-Control allows, refetches (at most every 30 s) on an unknown kid, and keeps validating
with cached keys while the issuer is down.
"""

from __future__ import annotations

import argparse
import os

from flask import Flask, jsonify

from authserver.resource_server import current_token, protector_for_issuer


def create_service(issuer: str, audience: str | None = None) -> Flask:
    app = Flask(__name__)
    require_token = protector_for_issuer(issuer, audience)

    @app.get("/hello")
    @require_token("profile")
    def hello():  # type: ignore[no-untyped-def]
        return jsonify(hello=current_token["sub"], scope=current_token["scope"])

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5100)
    args = parser.parse_args()
    service = create_service(os.environ["ISSUER"], os.environ.get("AUDIENCE"))
    service.run(host="127.0.0.1", port=args.port)
