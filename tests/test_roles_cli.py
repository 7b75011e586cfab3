"""`authserver role ...`, `group ...` and `user show` (INTERFACE.md "Roles and groups"), through
click's CliRunner in process, on SQLite and PostgreSQL: what they print, the bad input they
refuse (exit 2 naming it, nothing written), and deletions taking their grants and memberships
with them in the same transaction."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from authserver.cli import main

from .conftest import BACKENDS, _database_url

SAMPLE = "http://127.0.0.1:5000/api"  # the sample API's audience under the default issuer
ORDERS = "https://orders.example.com"
PASSWORD = "roles-password-1\n"


class Cli:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        return self.runner.invoke(main, list(args), input=stdin)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", stdin=stdin))

    def rows(self, table: str) -> int:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()

    def sql(self, *statements: str) -> None:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                if engine.dialect.name == "sqlite":  # outside a transaction, or it is ignored
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
                for statement in statements:
                    connection.execute(text(statement))
                connection.commit()
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def module_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Cli]:
    """One database per backend for the module (migrating one and hashing passwords is what
    costs here): the orders API and the users alice and bob."""
    tmp_path = tmp_path_factory.mktemp("roles-cli")
    urls = _database_url(request, tmp_path)
    database_url = next(urls)
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in {"AUTHSERVER_DATABASE_URL": database_url,
                            "AUTHSERVER_KEYS_DIR": str(tmp_path / "keys"),
                            "AUTHSERVER_INSTANCE_DIR": str(tmp_path / "instance"),
                            "AUTHSERVER_AUDIT_LOG": str(tmp_path / "audit.log")}.items():
            monkeypatch.setenv(name, value)
        runner = Cli(database_url)
        for username in ("alice", "bob"):
            runner.ok("user", "create", "--username", username, "--password-stdin", stdin=PASSWORD)
        yield runner
    for _ in urls:  # the schema's teardown
        pass


@pytest.fixture
def cli(module_cli: Cli) -> Iterator[Cli]:
    """The module's database with the orders API, alice and bob, and no roles, groups or
    clients: each test starts from that and leaves that behind."""
    module_cli.ok("api", "create", "--audience", ORDERS, "--name", "Orders", "--scope",
                  "orders:read")
    yield module_cli
    module_cli.sql("DELETE FROM roles", "DELETE FROM groups", "DELETE FROM clients",
                   "DELETE FROM apis")


def _everything(cli: Cli) -> dict[str, Any]:
    """What the role and group commands can change, as the CLI shows it."""
    return {"roles": cli.json("role", "list"), "groups": cli.json("group", "list"),
            "alice": cli.json("user", "show", "alice")}


def test_roles_held_directly_and_through_groups_are_shown(cli: Cli) -> None:
    created = cli.json("role", "create", "--api", ORDERS, "clerk", "--description", "Packs orders")
    assert created["audience"] == ORDERS and created["name"] == "clerk"
    assert created["description"] == "Packs orders"
    cli.ok("role", "create", "--api", ORDERS, "auditor")
    cli.ok("role", "create", "--api", SAMPLE, "admin")
    created = cli.json("group", "create", "shop-floor")
    assert created == {"id": created["id"], "name": "shop-floor", "members": [], "roles": {},
                       "created_at": cli.json("group", "show", "shop-floor")["created_at"]}
    assert created["id"].isdigit()
    cli.ok("group", "add-member", "shop-floor", "alice")
    cli.ok("group", "add-member", "shop-floor", "bob")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--group", "shop-floor")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--user", "alice")  # also directly
    cli.ok("role", "grant", "--api", SAMPLE, "admin", "--user", "alice")
    alice = cli.json("user", "show", "alice")
    assert alice["username"] == "alice" and alice["groups"] == ["shop-floor"]
    assert alice["roles"] == {ORDERS: ["clerk"], SAMPLE: ["admin"]}
    assert cli.json("user", "show", "bob")["roles"] == {ORDERS: ["clerk"]}
    group = cli.json("group", "show", "shop-floor")
    assert group["members"] == ["alice", "bob"] and group["roles"] == {ORDERS: ["clerk"]}
    assert [(r["audience"], r["name"]) for r in cli.json("role", "list", "--api", ORDERS)["roles"]] \
        == [(ORDERS, "auditor"), (ORDERS, "clerk")]
    assert len(cli.json("role", "list")["roles"]) == 3


def test_user_show_reads_as_aligned_fields_with_dates(cli: Cli) -> None:
    cli.ok("user", "update", "alice", "--name", "Alice Liddell", "--claim", "locale=en-GB")
    cli.ok("group", "create", "readers")
    cli.ok("group", "add-member", "readers", "alice")
    cli.ok("role", "create", "--api", ORDERS, "clerk")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--user", "alice")
    shown = cli.ok("user", "show", "alice").splitlines()
    fields = dict(line.split(":", 1) for line in shown if not line.startswith(" "))
    assert {"username", "sub", "email", "name", "created", "locale", "groups", "roles"} <= set(fields)
    assert len({line.index(line.split(":", 1)[1].strip()) for line in shown}) == 1  # aligned
    assert re.fullmatch(r"\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", fields["created"])
    assert fields["name"].strip() == "Alice Liddell" and fields["locale"].strip() == "en-GB"
    assert fields["groups"].strip() == "readers"
    assert fields["roles"].strip() == f"{ORDERS}: clerk"
    assert cli.ok("user", "show", "bob").count("(none)") >= 2  # no groups, no roles
    assert cli("user", "show", "nobody").exit_code != 0


def test_lists_have_headers_and_say_none(cli: Cli) -> None:
    assert cli.ok("role", "list").strip() == "(none)"
    assert cli.ok("group", "list").strip() == "(none)"
    cli.ok("role", "create", "--api", ORDERS, "clerk", "--description", "Packs orders")
    lines = cli.ok("role", "list").splitlines()
    assert lines[0].split() == ["API", "ROLE", "DESCRIPTION"]
    assert lines[1].split() == [ORDERS, "clerk", "Packs", "orders"]


BAD = [
    (["role", "create", "--api", ORDERS, "two words"], "'two words'"),
    (["role", "create", "--api", ORDERS, "x" * 65], "1-64 characters"),
    (["role", "create", "--api", ORDERS, "caf\u00e9"], "1-64 characters"),
    (["role", "create", "--api", ORDERS, "clerk"], "has a role 'clerk' already"),
    (["role", "create", "--api", "https://nowhere.example.com", "clerk"],
     "no API with audience 'https://nowhere.example.com'"),
    (["role", "list", "--api", "https://nowhere.example.com"], "no API with audience"),
    (["role", "delete", "--api", ORDERS, "ghost"], "no role 'ghost'"),
    (["role", "grant", "--api", ORDERS, "ghost", "--user", "alice"], "no role 'ghost'"),
    (["role", "grant", "--api", ORDERS, "clerk", "--user", "carol"], "no user named 'carol'"),
    (["role", "grant", "--api", ORDERS, "clerk", "--group", "ghosts"], "no group named 'ghosts'"),
    (["role", "grant", "--api", ORDERS, "clerk", "--client", "c0ffee"],
     "no client with client_id 'c0ffee'"),
    (["role", "grant", "--api", ORDERS, "clerk", "--user", "alice"], "holds the role 'clerk'"),
    (["role", "grant", "--api", ORDERS, "clerk"], "exactly one of --user, --group or --client"),
    (["role", "grant", "--api", ORDERS, "clerk", "--user", "bob", "--group", "staff"],
     "exactly one of"),
    (["role", "revoke", "--api", ORDERS, "clerk", "--user", "bob"], "no grant of the role"),
    (["role", "grant", "--api", "https://nowhere.example.com", "clerk", "--user", "alice"],
     "no API with audience"),
    (["group", "create", "staff"], "a group named 'staff' exists already"),
    (["group", "create", "a/b"], "group name 'a/b'"),
    (["group", "show", "ghosts"], "no group named 'ghosts'"),
    (["group", "delete", "ghosts"], "no group named 'ghosts'"),
    (["group", "add-member", "staff", "alice"], "is a member of 'staff' already"),
    (["group", "add-member", "staff", "carol"], "no user named 'carol'"),
    (["group", "add-member", "ghosts", "alice"], "no group named 'ghosts'"),
    (["group", "remove-member", "staff", "bob"], "'bob' is not a member of 'staff'"),
]


def test_bad_input_is_exit_2_naming_it_with_nothing_written(cli: Cli) -> None:
    cli.ok("role", "create", "--api", ORDERS, "clerk")
    cli.ok("group", "create", "staff")
    cli.ok("group", "add-member", "staff", "alice")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--user", "alice")
    before = _everything(cli)
    for args, message in BAD:
        result = cli(*args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)
        assert "Traceback" not in result.output
    assert _everything(cli) == before


def test_revoke_and_remove_member_take_effect(cli: Cli) -> None:
    cli.ok("role", "create", "--api", ORDERS, "clerk")
    cli.ok("group", "create", "staff")
    cli.ok("group", "add-member", "staff", "alice")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--group", "staff")
    cli.ok("role", "grant", "--api", ORDERS, "clerk", "--user", "alice")
    cli.ok("role", "revoke", "--api", ORDERS, "clerk", "--user", "alice")
    assert cli.json("user", "show", "alice")["roles"] == {ORDERS: ["clerk"]}  # still, by group
    cli.ok("group", "remove-member", "staff", "alice")
    shown = cli.json("user", "show", "alice")
    assert shown["roles"] == {} and shown["groups"] == []


def test_each_deletion_takes_exactly_its_grants_and_memberships(cli: Cli) -> None:
    """Roles clerk (orders) and admin (sample API) granted to alice, the group staff (alice and
    carol) and a client; then each deletion, one after another, with what is left counted."""
    cli.ok("user", "create", "--username", "carol", "--password-stdin", stdin=PASSWORD)
    client_id = cli.json("client", "create", "--name", "robot", "--scope", "orders:read")["client_id"]
    cli.ok("group", "create", "staff")
    cli.ok("group", "add-member", "staff", "alice")
    cli.ok("group", "add-member", "staff", "carol")
    for audience, name in ((ORDERS, "clerk"), (SAMPLE, "admin"), (SAMPLE, "temporary")):
        cli.ok("role", "create", "--api", audience, name)
        for holder in (["--user", "alice"], ["--group", "staff"], ["--client", client_id]):
            cli.ok("role", "grant", "--api", audience, name, *holder)
    cli.ok("role", "grant", "--api", SAMPLE, "admin", "--user", "carol")
    assert _grants(cli) == [4, 3, 3]

    cli.ok("role", "delete", "--api", SAMPLE, "temporary")
    assert _grants(cli) == [3, 2, 2]
    assert cli.json("group", "show", "staff")["roles"] == {ORDERS: ["clerk"], SAMPLE: ["admin"]}

    cli.ok("client", "delete", client_id)
    assert _grants(cli) == [3, 2, 0]

    cli.ok("api", "delete", ORDERS)
    assert [r["name"] for r in cli.json("role", "list")["roles"]] == ["admin"]
    assert _grants(cli) == [2, 1, 0]
    assert cli.json("user", "show", "alice")["roles"] == {SAMPLE: ["admin"]}

    cli.ok("user", "delete", "carol")
    assert _grants(cli) == [1, 1, 0] and cli.rows("group_members") == 1
    assert cli.json("group", "show", "staff")["members"] == ["alice"]

    cli.ok("group", "delete", "staff")
    assert _grants(cli) == [1, 0, 0] and cli.rows("group_members") == 0
    assert cli.json("user", "show", "alice")["groups"] == []


def _grants(cli: Cli) -> list[int]:
    return [cli.rows(table) for table in ("user_roles", "group_roles", "client_roles")]
