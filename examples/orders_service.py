"""A service protected as its own API: only tokens issued for its audience are accepted.

    authserver api create --audience http://127.0.0.1:5200 --name Orders \\
        --scope "orders:read=See your orders"
    ISSUER=http://127.0.0.1:5000 AUDIENCE=http://127.0.0.1:5200 \\
        python examples/orders_service.py --port 5200
    curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:5200/orders

A token for another API (the sample notes API, or any other) is refused with 401
invalid_token: its `aud` is not this service's, whatever scopes it carries.
"""

from __future__ import annotations

import argparse
import os

from flask import Flask, jsonify

from authserver.resource_server import current_token, protector_for_issuer


def create_service(issuer: str, audience: str) -> Flask:
    app = Flask(__name__)
    require_token = protector_for_issuer(issuer, audience=audience)

    @app.get("/orders")
    @require_token("orders:read")
    def orders():  # type: ignore[no-untyped-def]
        return jsonify(orders=[], caller=current_token["sub"], scope=current_token["scope"])

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5200)
    args = parser.parse_args()
    service = create_service(os.environ["ISSUER"], os.environ["AUDIENCE"])
    service.run(host="127.0.0.1", port=args.port)
