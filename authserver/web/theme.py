"""AUTHSERVER_THEME_DIR: an operator's templates and static files, found before the built-in
ones of the same name (README "Themes")."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory
from flask.typing import ResponseReturnValue
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.security import safe_join


def install(app: Flask, theme_dir: str | None) -> None:
    if not theme_dir:
        return
    root = Path(theme_dir)
    templates, static = root / "templates", root / "static"
    built_in = app.jinja_loader
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [FileSystemLoader(str(templates))] + ([built_in] if built_in else []))
    built_in_static = app.view_functions["static"]

    def themed_static(filename: str) -> ResponseReturnValue:
        themed = safe_join(str(static), filename)  # None for a path that leaves the directory
        if themed is not None and Path(themed).is_file():
            return send_from_directory(static, filename)
        return built_in_static(filename=filename)  # type: ignore[return-value]

    app.view_functions["static"] = themed_static
