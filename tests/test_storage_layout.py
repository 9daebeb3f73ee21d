"""The storage package stays a house of small feature modules: no import circle, no file past 400
lines (issue 21: a 1,034-line Store and a store <-> practice circle came before)."""

from __future__ import annotations

import ast
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[1] / "storage"
MAX_LINES = 400


def test_storage_modules_import_each_other_without_a_circle():
    graph = {name: _imports(path) for name, path in _modules().items()}
    for module in graph:
        assert _path_back(graph, module) is None, f"import circle: {_path_back(graph, module)}"


def test_no_storage_module_is_longer_than_four_hundred_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _path_back(graph, "a") == ["a", "b", "c", "a"]
    assert _path_back({"a": {"b"}, "b": set()}, "a") is None


def _modules() -> dict[str, Path]:
    found = {}
    for path in STORAGE.rglob("*.py"):
        parts = path.relative_to(STORAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """The storage modules `path` imports when it is loaded (type-checking imports included;
    imports inside functions, which run later, left out)."""
    known = set(_modules())
    names: set[str] = set()
    for node in _module_level(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from storage import rows` imports the module storage.rows.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """Statements run at import: the module's own, and those inside its top-level if/try blocks."""
    found: list[ast.stmt] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If | ast.Try):
            pending.extend(node.body + node.orelse)
    return found


def _path_back(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of imports from `start` that comes back to it, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for imported in sorted(graph.get(module, ())):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None
