"""Schemathesis over the administration API's part of /openapi.json, in process (WSGI), with
a real admin token: every documented admin operation, random bodies, ids and queries, and no
answer is a server error."""

from __future__ import annotations

import os

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from .admin_support import admin_client, admin_token

EXAMPLES = int(os.environ.get("AUTHSERVER_FUZZ_EXAMPLES", "40"))


def test_schemathesis_finds_no_server_errors_in_the_admin_api(app: Flask,
                                                               client: FlaskClient) -> None:
    headers = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(
        path_regex="^/admin/v1")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    strategy = st.one_of(*(operation.as_strategy() for operation in operations))
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES * 2, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    run()
    assert len(statuses) >= EXAMPLES and max(statuses) < 500
    assert 200 in statuses  # past the protector, into the operations
