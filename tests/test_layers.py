"""The package layers of docs/ARCHITECTURE.md, checked from the code's own imports.

Every ``import`` in ``src/ictus`` (lazy ones inside functions too) is read with :mod:`ast`;
a package may import only packages on lower layers (and itself), and no two modules may
import each other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

#: Layer of each top-level part of ``ictus``: imports go to lower numbers only.
LAYERS = {
    "__init__": 0,
    "errors": 0,
    "patterns": 0,  # regular expressions compiled on first use: stdlib only
    "paths": 0,  # file names read as pathlib reads them: stdlib only
    "limits": 0.5,  # the documented input limits: errors only, asked by every reader
    "atomic": 1,
    "timebase": 1,
    "tempomap": 2,
    "formats": 3,
    "sounds": 3,
    "render": 4,
    "sync": 5,
    "engine": 6,
    "film": 6,
    "show": 7,
    "practice": 7,
    "remote": 8,  # frontends: the engine's remote and a running show's
    "web": 8,
    "cli": 9,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``ictus`` module that ``path`` imports (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "ictus")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "ictus":
                continue
            found.add(mod)
            # ``from ictus.cli import film`` imports the module ictus.cli.film
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (SRC / "ictus").rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_layer() -> None:
    assert {_part(m) for m in _graph()} <= set(LAYERS)


def test_imports_go_down_the_layers() -> None:
    wrong = sorted(
        f"{src} imports {dst}"
        for src, dsts in _graph().items()
        for dst in dsts
        if _part(src) != _part(dst) and LAYERS[_part(dst)] >= LAYERS[_part(src)]
    )
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_package_face(module: str, graph: dict[str, set[str]]) -> bool:
    return any(m.startswith(module + ".") for m in graph)


def test_no_import_cycles() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its modules, which import their siblings through
    # the package, is how Python packages look, not a cycle between two jobs: count only
    # edges between modules proper
    modules = {
        m: {d for d in deps if not _is_package_face(d, graph)}
        for m, deps in graph.items()
        if not _is_package_face(m, graph)
    }
    assert not _cycles(modules)


def test_the_checker_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["ictus.cli.main", "ictus.engine"])
def test_the_checker_reads_imports(module: str) -> None:
    assert _graph()[module]


def _architecture_rows() -> list[tuple[str, float, set[str] | None]]:
    """docs/ARCHITECTURE.md's layer table: (package, layer, what it imports, or None for
    "everything")."""
    page = (SRC.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = []
    for line in page.splitlines():
        m = re.match(r"^\| (\d+(?:\.\d+)?) \| `ictus(?:\.(\w+))?`.*\| ([^|]*) \|$", line)
        if m:
            cell = re.sub(r"\(.*?\)", "", m.group(3)).strip()
            imports = None if cell == "everything" else {w for w in re.findall(r"\w+", cell)}
            rows.append((m.group(2) or "__init__", float(m.group(1)), imports))
    return rows


def test_the_architecture_page_has_these_layers() -> None:
    """docs/ARCHITECTURE.md's layer table says what LAYERS says, package for package."""
    documented = {name: layer for name, layer, _ in _architecture_rows()}
    assert documented == LAYERS


def test_the_architecture_page_says_what_each_package_imports() -> None:
    """Its last column names exactly the other packages each package imports."""
    graph = _graph()
    wrong = []
    for name, _, documented in _architecture_rows():
        actual = {
            _part(dst) for src, dsts in graph.items() if _part(src) == name for dst in dsts
        } - {name}
        if documented is not None and documented != actual:
            wrong.append(f"{name}: the page says {sorted(documented)}, the code {sorted(actual)}")
    assert not wrong, "\n".join(wrong)
