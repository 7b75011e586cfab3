"""A service that requires a role: anyone with the scope may ask who they are, but only holders
of its API's role `auditor` may read the reports.

    authserver api create --audience http://127.0.0.1:5300 --name Reports --scope "reports:read=Read reports"
    authserver role create --api http://127.0.0.1:5300 auditor --description "Reads every report"
    ISSUER=http://127.0.0.1:5000 AUDIENCE=http://127.0.0.1:5300 \\
        python examples/reports_service.py --port 5300 &
    curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:5300/reports

Without the role the answer is 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
error_description="this request needs the role 'auditor' of this API"`; grant it (`authserver
role grant --api http://127.0.0.1:5300 auditor --user alice`, or `--group`, or `--client`) and
the next token carries it.
"""

from __future__ import annotations

import argparse
import os

from flask import Flask, jsonify

from authserver.resource_server import current_token, protector_for_issuer


def create_service(issuer: str, audience: str) -> Flask:
    app = Flask(__name__)
    require_token = protector_for_issuer(issuer, audience=audience)

    @app.get("/whoami")
    @require_token("reports:read")
    def whoami():  # type: ignore[no-untyped-def]
        return jsonify(sub=current_token["sub"], roles=current_token.get("roles", []))

    @app.get("/reports")
    @require_token("reports:read", roles="auditor")
    def reports():  # type: ignore[no-untyped-def]
        return jsonify(reports=[{"name": "quarterly", "reader": current_token["sub"]}])

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5300)
    args = parser.parse_args()
    service = create_service(os.environ["ISSUER"], os.environ["AUDIENCE"])
    service.run(host="127.0.0.1", port=args.port)
