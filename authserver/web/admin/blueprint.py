"""The administration API's blueprint and how it answers a refused operation."""

from __future__ import annotations

from flask import Blueprint, Response

from ...operations.errors import OperationError
from . import problems

bp = Blueprint("admin", __name__, url_prefix="/admin/v1")


@bp.errorhandler(OperationError)
def _refused(error: OperationError) -> Response:
    return problems.of_operation(error)


@bp.errorhandler(problems.Problem)
def _problem(error: problems.Problem) -> Response:
    return error.response()
