"""The layout is enforced, not only drawn: no import circle, no module past 400 lines. (The
layer contracts are import-linter's, in pyproject.toml, run by CI as `lint-imports`.)"""

from __future__ import annotations

from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[1] / "authserver"
MAX_MODULE_LINES = 300  # the layout by concern keeps every module readable at a sitting


def test_no_module_imports_itself_through_others() -> None:
    # Imports under TYPE_CHECKING are for annotations only and never run.
    graph = grimp.build_graph("authserver", exclude_type_checking_imports=True)
    circles = {
        tuple(sorted((module, imported)))
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    }
    assert circles == set()


def test_no_module_is_over_300_lines() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_readme_code_layout_names_every_operations_and_admin_module() -> None:
    """The README's code layout is the map of the code: its `operations/` and `web/admin/` rows
    name each module there (the operations' row went stale as modules were added)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    for folder in ("operations", "web/admin"):
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{folder}/` |"))
        modules = {path.name for path in (PACKAGE / folder).glob("*.py")} - {"__init__.py"}
        assert {name for name in modules if f"`{name}`" not in row} == set(), folder
