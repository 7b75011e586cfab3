"""`/`: a page for a person who types the server's address; a JSON pointer to discovery for
a program."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from .. import context
from ..errors import prefers_html

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> Response:
    issuer = context.settings().issuer
    discovery = f"{issuer}/.well-known/openid-configuration"
    if prefers_html():
        return Response(render_template("home.html", issuer=issuer, discovery=discovery))
    return jsonify(issuer=issuer, openid_configuration=discovery)
