"""The app's URL rules compile their URL builders on first use (web/routing.py), and build the
same URLs werkzeug's own rules build."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from werkzeug.routing import Map, Rule

from authserver.web.routing import LazyBuilderRule


def values_for(rule: Rule) -> dict[str, object]:
    """A value for each of the rule's variables that needs quoting (the app's rules only use
    werkzeug's default converter)."""
    return {name: "a b/é?" for name in rule.arguments}


def test_every_rule_of_the_app_is_lazy_and_builds_what_werkzeug_builds(app: Flask) -> None:
    ours = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(ours) > 100
    assert all(isinstance(rule, LazyBuilderRule) for rule in ours)
    eager = Map([Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods,
                      defaults=rule.defaults) for rule in ours], merge_slashes=False)
    lazy_urls, eager_urls = app.url_map.bind("authserver.test"), eager.bind("authserver.test")
    for rule in ours:
        values = values_for(rule)
        method = sorted(rule.methods or {"GET"})[0]
        # The second has unknown arguments, one named as the builder's own first parameter.
        for extra in ({}, {"next": "/a?b=c", "n": 2, "rule": "r", "self": "s"}):
            assert (lazy_urls.build(rule.endpoint, {**values, **extra}, method=method)
                    == eager_urls.build(rule.endpoint, {**values, **extra}, method=method)), rule


def test_no_builder_is_compiled_until_a_url_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[bool] = []
    original = Rule._compile_builder

    def counting(rule: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
        compiled.append(append_unknown)
        return original(rule, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    urls = Map([LazyBuilderRule("/a/<name>", endpoint="a"), LazyBuilderRule("/b", endpoint="b")])
    assert compiled == []
    adapter = urls.bind("h")
    assert adapter.build("a", {"name": "x y"}) == "/a/x%20y"
    assert adapter.build("a", {"name": "x", "q": "1"}) == "/a/x?q=1"
    assert adapter.build("a", {"name": "x"}, append_unknown=False) == "/a/x"
    assert compiled == [True, False]  # a's two builders, each once; b's never


def test_threads_building_the_first_urls_at_once_all_get_them() -> None:
    """Eight threads ask for the same fifty first builds at once: each gets every URL right.
    (The CPython race the lock is for does not happen on demand; this is the behaviour.)"""
    urls = Map([LazyBuilderRule(f"/r{i}/<name>", endpoint=f"r{i}") for i in range(50)])
    start, failures, built = threading.Barrier(8), [], []

    def build_all() -> None:
        start.wait()
        adapter = urls.bind("h")
        try:
            built.append([adapter.build(f"r{i}", {"name": i}) for i in range(50)])
        except Exception as error:  # noqa: BLE001 (the test reports any)
            failures.append(error)

    threads = [threading.Thread(target=build_all) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert built == [[f"/r{i}/{i}" for i in range(50)]] * 8
