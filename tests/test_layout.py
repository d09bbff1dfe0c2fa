"""The shape of the code and its docs: import arrows one way, no module too long, and the
README's settings table saying what the settings say."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from leaderboard.settings import VARIABLES

REPO = Path(__file__).parents[1]
PACKAGE = REPO / "leaderboard"
LAYERS = ("http", "service", "store")  # each may import only those after it


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (TYPE_CHECKING imports count too)."""
    mods = modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def test_no_import_cycle_inside_the_package() -> None:
    graph, done, path = imports(), set(), []

    def visit(name: str) -> None:
        assert name not in path, " -> ".join([*path[path.index(name) :], name])
        if name in done:
            return
        path.append(name)
        for target in graph[name]:
            visit(target)
        path.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_layers_import_one_way_and_only_the_store_imports_redis() -> None:
    for name, targets in imports().items():
        layer = name.split(".")[1] if name.count(".") else ""
        if layer in LAYERS:
            below = LAYERS[LAYERS.index(layer) :]
            above = {t for t in targets if t.count(".") and t.split(".")[1] in LAYERS}
            assert all(t.split(".")[1] in below for t in above), (name, above)
    for name, path in modules().items():
        if not name.startswith("leaderboard.store"):
            assert not re.search(r"^\s*(import|from) redis\b", path.read_text(), re.M), name


def test_no_module_is_longer_than_about_400_lines() -> None:
    long = {
        name: n for name, p in modules().items() if (n := len(p.read_text().splitlines())) > 420
    }
    assert not long


def test_the_readme_gives_every_setting_with_its_default() -> None:
    rows = dict(
        re.findall(
            r"^\| `LEADERBOARD_(\w+)` \| `?([^`|]*?)`? \|", (REPO / "README.md").read_text(), re.M
        )
    )
    for name, default, _ in VARIABLES:
        shown = rows.get(name)
        assert shown is not None, name
        assert shown in (default or "unset", f"./{default}"), (name, shown, default)
