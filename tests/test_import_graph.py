"""No import circle among our modules, and imports run one way down the layers.

The README's "How it is built" draws the layers: `voicemood` on top, `bots` and `data_augment`
beneath it, `inference` and `storage` beneath them, `common` at the bottom. This reads every .py
file of those packages with `ast` (package `__init__` files included) and builds the graph of
which module imports which. Every import statement counts, wherever it stands: one inside a
function or under TYPE_CHECKING does not run at import time, but it still ties two modules
together, and a circle of such ties is what lets two modules reach into each other's insides
(storage's store and practice did, through a type-only import).

What an import statement depends on:
- `import a.b.c` depends on `a.b.c`;
- `from a.b import x` depends on `a.b` (its `__init__` runs first) and, when `x` is a submodule
  rather than a name defined in `a.b`, on `a.b.x` as well;
- relative imports (`from . import x`, `from ..core import y`) resolve against the importing
  module's package (a package's `__init__` is its own package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("voicemood", "common", "inference", "storage", "bots", "data_augment")

# Which of our top-level packages each package must never import.
FORBIDDEN = {
    "common": {"voicemood", "inference", "storage", "bots", "data_augment"},  # nothing of ours
    "inference": {"voicemood", "storage", "bots", "data_augment"},
    "storage": {"voicemood", "inference", "bots", "data_augment"},
    "bots": {"voicemood", "data_augment"},
    "data_augment": {"voicemood", "bots"},
}
# The platform libraries, which only the adapters in bots/ may import.
PLATFORM_LIBRARIES = {"telegram", "discord", "aiohttp"}
PLATFORM_FREE = ("common", "inference", "storage")

Edge = tuple[str, str]  # (importing module, imported module)


def test_no_import_circle_among_our_modules():
    graph, where = import_graph()
    circles = [_describe(circle, graph, where) for circle in find_circles(graph)]
    if circles:
        pytest.fail("import circles:\n" + "\n".join(circles), pytrace=False)


def test_layers_import_one_way():
    graph, where = import_graph()
    wrong = [
        f"{where[(a, b)]}: {a} imports {b}"
        for a, targets in sorted(graph.items())
        for b in sorted(targets)
        if _top(b) in FORBIDDEN.get(_top(a), set())
    ]
    if wrong:
        pytest.fail("imports against the layers:\n" + "\n".join(wrong), pytrace=False)


def test_only_the_bots_import_platform_libraries():
    wrong = [
        f"{_relative(path)}:{line}: {name} imports {library}"
        for name, path in project_modules().items()
        if _top(name) in PLATFORM_FREE
        for line, library in _third_party_imports(path)
        if library in PLATFORM_LIBRARIES
    ]
    if wrong:
        pytest.fail("platform libraries below bots/:\n" + "\n".join(wrong), pytrace=False)


def test_the_reader_follows_inits_relative_lazy_and_type_only_imports(tmp_path):
    """The rules of the module docstring, on a small package made for the purpose."""
    files = {
        "pkg/__init__.py": "def load():\n    from pkg.plugins import one\n",
        "pkg/base.py": "import json\nMARKER = 'x'\n",
        "pkg/plugins/__init__.py": "",
        "pkg/plugins/one.py": "from pkg import load\nfrom ..base import MARKER\n",
        "pkg/plugins/two.py": "from . import one\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import pkg.base\n",
        "low/__init__.py": "",
        "low/thing.py": "import pkg.plugins.two\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    graph, where = import_graph(tmp_path, ("pkg", "low"))

    assert graph == {
        "pkg": {"pkg.plugins", "pkg.plugins.one"},  # a lazy import counts
        "pkg.base": set(),  # json is not ours
        "pkg.plugins": set(),
        "pkg.plugins.one": {"pkg", "pkg.base"},  # `from pkg import load`: the package's init
        "pkg.plugins.two": {"pkg.plugins", "pkg.plugins.one", "pkg.base"},  # relative, type-only
        "low": set(),
        "low.thing": {"pkg.plugins.two"},
    }
    assert where[("pkg.plugins.one", "pkg.base")] == "pkg/plugins/one.py:2"
    assert find_circles(graph) == [["pkg", "pkg.plugins.one"]]
    assert find_circles({"a": {"b"}, "b": {"c"}, "c": {"a", "b"}, "d": {"d"}}) == [["a", "b", "c"]]


@cache
def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of `packages` by dotted name; a package's `__init__` is the package."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


@cache
def import_graph(
    root: Path = ROOT, packages: tuple[str, ...] = PACKAGES
) -> tuple[dict[str, set[str]], dict[Edge, str]]:
    """module -> the modules it imports, and where (file:line) each edge was first seen."""
    modules = project_modules(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    where: dict[Edge, str] = {}
    for name, path in modules.items():
        for line, target in _imports(name, path, set(modules)):
            if target != name:
                graph[name].add(target)
                where.setdefault((name, target), f"{path.relative_to(root)}:{line}")
    return graph, where


def find_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules (Tarjan), each from its first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(_shortest_circle(graph, group) for group in groups)


def _shortest_circle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest way from the group's first module back to itself, inside the group."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no circle in {group}")  # a strongly connected group always has one


def _describe(circle: list[str], graph: dict[str, set[str]], where: dict[Edge, str]) -> str:
    """The circle with the line of each import, and the other modules caught in the same knot."""
    steps = zip(circle, [*circle[1:], circle[0]], strict=True)
    text = "  " + " -> ".join(f"{a} ({where[(a, b)]})" for a, b in steps) + f" -> {circle[0]}"
    knot = _reachable(graph, circle[0]) & {m for m in graph if circle[0] in _reachable(graph, m)}
    others = sorted(knot - set(circle))
    return text + (f"\n    (in the same knot: {', '.join(others)})" if others else "")


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _imports(name: str, path: Path, modules: set[str]) -> Iterator[tuple[int, str]]:
    """(line, our module) for every module of ours an import statement in `path` depends on."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _ours(alias.name, modules)
                if target:
                    yield node.lineno, target
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(name, is_package, node.level, node.module)
            else:
                base = node.module or ""
            target = _ours(base, modules)
            if target:
                yield node.lineno, target
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    yield node.lineno, f"{base}.{alias.name}"


def _resolve_relative(name: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name a relative import in module `name` refers to."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _ours(dotted: str, modules: set[str]) -> str | None:
    """The module of ours `dotted` names (its longest prefix that is one), None if not ours."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return None


def _third_party_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level name) of every absolute import in `path`."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.lineno, node.module.split(".")[0]


def _top(module: str) -> str:
    return module.split(".")[0]


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))
