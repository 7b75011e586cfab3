"""/admin/v1/groups: `authserver group ...` over HTTP, by the `id` each group's JSON gives.

A group's JSON is `group show --json`'s: {"id", "name", "members" (usernames), "roles"
({audience: [names]}), "created_at"}. POST and PATCH take {"name"}; `POST|DELETE
/groups/{id}/members` take {"user": username}.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...operations import groups as operations
from ...operations.errors import BadInput
from ...store import Session
from ..protect import require_admin_token
from .blueprint import bp
from .problems import json_object, limit_and_cursor, reading, writing
from .roles import fields

READ, WRITE = "admin:read", "admin:write"


def _name() -> str:
    body = fields(json_object(), ("name",))
    if "name" not in body:
        raise BadInput("name is required", field="name")
    return str(body["name"])


def _user() -> str:
    body = fields(json_object(), ("user",))
    if "user" not in body:
        raise BadInput("user is required (a username)", field="user")
    return str(body["user"])


@bp.get("/groups")
@require_admin_token(READ)
def list_groups() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(reading(lambda s: operations.page_groups(s, limit=limit, cursor=cursor)
                           .to_dict()))


@bp.post("/groups")
@require_admin_token(WRITE)
def create_group() -> tuple[Response, int]:
    name = _name()
    created = writing("group_created", lambda s: operations.create_group(s, name),
                      lambda group: {"group": group.name, "group_id": group.id})
    return jsonify(created.to_dict()), 201


@bp.get("/groups/<group_id>")
@require_admin_token(READ)
def show_group(group_id: str) -> Response:
    return jsonify(reading(lambda s: operations.show_group(
        s, operations.group_by_id(s, group_id)).to_dict()))


@bp.patch("/groups/<group_id>")
@require_admin_token(WRITE)
def rename_group(group_id: str) -> Response:
    name = _name()
    old: list[str] = []

    def rename(session: Session) -> dict[str, Any]:
        group = operations.group_by_id(session, group_id)
        old.append(group.name)
        return operations.rename_group(session, group, name).to_dict()

    return jsonify(writing("group_renamed", rename, lambda group: {
        "group": group["name"], "group_id": group_id, "previous_name": old[0]}))


@bp.delete("/groups/<group_id>")
@require_admin_token(WRITE)
def delete_group(group_id: str) -> tuple[str, int]:
    def delete(session: Session) -> dict[str, Any]:
        group = operations.group_by_id(session, group_id)
        named = {"group": group.name, "group_id": group_id}
        operations.delete_group(session, group)
        return named

    writing("group_deleted", delete, lambda named: named)
    return "", 204


def _membership(event: str, change: Any, group_id: str) -> dict[str, Any]:
    username = _user()

    def run(session: Session) -> dict[str, Any]:
        group = operations.group_by_id(session, group_id)
        change(session, group, username)
        return operations.show_group(session, group).to_dict()

    return writing(event, run, lambda group: {"group": group["name"], "group_id": group_id,
                                              "username": username})


@bp.post("/groups/<group_id>/members")
@require_admin_token(WRITE)
def add_member(group_id: str) -> tuple[Response, int]:
    return jsonify(_membership("group_member_added", operations.add_member, group_id)), 201


@bp.delete("/groups/<group_id>/members")
@require_admin_token(WRITE)
def remove_member(group_id: str) -> tuple[str, int]:
    _membership("group_member_removed", operations.remove_member, group_id)
    return "", 204
