"""The ceiling: a minimal Flask endpoint, served by Granian with the same settings as authserver."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():  # type: ignore[no-untyped-def]
    return jsonify(ok=True)
