"""The shape of the production packages: layers, import cycles, sizes, one reader of the environment.

Fast and model-free: every check reads the source of index/, qa/, web/ and cli/ with `ast` and
imports none of it, so a half-finished refactor still gets a readable list of offenders.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("index", "qa", "web", "cli")  # a package may import only the ones before it
MAX_MODULES_PER_FOLDER = 20
MAX_MODULE_LINES = 400
SIZED_PACKAGES = ("index", "qa", "web")  # module-length limit; cli/ is exempt from this one only
MAX_FUNCTION_LINES = 60
MAX_ASK_LINES = 30
SETTINGS = "index/settings.py"  # the one module that reads (and passes on) the environment
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


@dataclass(frozen=True)
class Module:
    name: str  # dotted; a package's __init__.py is the package's own name
    path: Path
    is_package: bool
    lines: int
    tree: ast.Module

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def layer(self) -> str:
        return self.name.split(".")[0]


@cache
def modules() -> dict[str, Module]:
    """Every .py file under the four packages, by dotted name."""
    found: dict[str, Module] = {}
    for layer in LAYERS:
        assert (ROOT / layer / "__init__.py").is_file(), f"no package {layer}/ in {ROOT}"
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
            name = ".".join(parts)
            found[name] = Module(name, path, is_package, len(text.splitlines()), tree)
    return found


def in_layers(*layers: str) -> list[Module]:
    chosen = [m for m in modules().values() if m.layer in layers]
    assert chosen, f"no modules found in {layers} under {ROOT}"  # else every check passes
    return chosen


def _nodes(node: ast.AST, module_level: bool) -> Iterator[ast.AST]:
    """Every node below `node`; module_level leaves out function bodies and the body of
    `if TYPE_CHECKING:` (its else branch does run)."""
    for child in ast.iter_child_nodes(node):
        if module_level and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if module_level and _is_type_checking(child):
            for stmt in child.orelse:
                yield stmt
                yield from _nodes(stmt, module_level)
            continue
        yield child
        yield from _nodes(child, module_level)


def _is_type_checking(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): its body never runs."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: Module, *, module_level: bool) -> Iterator[tuple[int, str, list[str]]]:
    """(line, base, names) per import statement: base is the absolute dotted module imported
    (`import a.b` -> "a.b"; `from a.b import c` -> "a.b"; relative forms resolved against
    `module`), names the names taken from it (empty for `import`).

    module_level: leave out imports inside functions (deliberate lazy imports) and under
    `if TYPE_CHECKING:` (never executed); otherwise every import statement anywhere.
    """
    for node in _nodes(module.tree, module_level):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.name.split(".")
                if not module.is_package:
                    package.pop()
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield node.lineno, base, [alias.name for alias in node.names]


# --- layers ---


def test_no_module_imports_a_higher_layer():
    rank = {layer: n for n, layer in enumerate(LAYERS)}
    offenders = []
    for module in in_layers(*LAYERS):
        for line, base, names in imports(module, module_level=False):
            top = base.split(".")[0]
            if top in rank and rank[top] > rank[module.layer]:
                taken = f" ({', '.join(names)})" if names else ""
                offenders.append(f"{module.rel}:{line} imports {base}{taken}")
    assert not offenders, (
        f"upward imports (layers {' < '.join(LAYERS)}: a package imports only lower ones):\n"
        + "\n".join(offenders)
    )


# --- cycles ---


def import_graph() -> dict[str, dict[str, str]]:
    """module -> {imported module: 'file:line'}, from module-level imports only."""
    known = modules()
    graph: dict[str, dict[str, str]] = {name: {} for name in known}
    for module in known.values():
        for line, base, names in imports(module, module_level=True):
            targets = []
            for name in names or [None]:
                if name is not None and f"{base}.{name}" in known:
                    targets.append(f"{base}.{name}")  # from a.b import c, c a module
                elif base in known:
                    targets.append(base)
            for target in targets:
                graph[module.name].setdefault(target, f"{module.rel}:{line}")
    return graph


def strongly_connected(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on deep chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
    return found


def one_cycle(graph: dict[str, dict[str, str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first member, as 'a -> b (file:line)' steps."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        after = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    cycle = [*paths[node], start]
                    return [f"{a} -> {b} ({graph[a][b]})" for a, b in pairwise(cycle)]
                if nxt in members and nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    after.append(nxt)
        frontier = after
    return []  # unreachable for a strongly connected component


def test_no_import_cycle_among_module_level_imports():
    graph = import_graph()
    assert sum(len(edges) for edges in graph.values()) > len(LAYERS), "no imports found"
    components = strongly_connected(graph)
    report = [
        f"cycle among {', '.join(c)}:\n    " + "\n    ".join(one_cycle(graph, c))
        for c in components
    ]
    assert not components, "module-level import cycles:\n" + "\n".join(report)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b": "a:1"}, "b": {"c": "b:1"}, "c": {"a": "c:1"}, "d": {"d": "d:1"}, "e": {}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d"]]
    assert one_cycle(graph, ["a", "b", "c"]) == ["a -> b (a:1)", "b -> c (b:1)", "c -> a (c:1)"]


# --- sizes ---


def test_no_folder_holds_more_than_20_modules():
    folders: dict[str, int] = {}
    for module in in_layers(*LAYERS):
        folder = module.path.parent.relative_to(ROOT).as_posix()
        folders[folder] = folders.get(folder, 0) + 1
    crowded = [f"{f}/: {n}" for f, n in sorted(folders.items()) if n > MAX_MODULES_PER_FOLDER]
    assert not crowded, (
        f"folders with over {MAX_MODULES_PER_FOLDER} .py modules side by side:\n"
        + ("\n".join(crowded))
    )


def test_no_module_over_400_lines():
    long = [
        f"{m.rel}: {m.lines} lines"
        for m in sorted(in_layers(*SIZED_PACKAGES), key=lambda m: m.rel)
        if m.lines > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def functions(module: Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) for every function and method, nested ones included."""

    def visit(node: ast.AST, prefix: str) -> Iterator:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{prefix}{child.name}", child
                yield from visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    return visit(module.tree, "")


def length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return node.end_lineno - node.lineno + 1  # lineno is the `def` line: decorators excluded


def test_no_function_over_60_lines():
    long = [
        f"{m.rel}:{node.lineno} {name}: {length(node)} lines"
        for m in sorted(in_layers(*LAYERS), key=lambda m: m.rel)
        for name, node in functions(m)
        if length(node) > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_answerer_ask_is_at_most_30_lines():
    pipeline = modules()["qa.pipeline"]
    asks = [node for name, node in functions(pipeline) if name == "Answerer.ask"]
    assert len(asks) == 1, f"{pipeline.rel} has {len(asks)} Answerer.ask methods, expected 1"
    assert length(asks[0]) <= MAX_ASK_LINES, (
        f"{pipeline.rel}:{asks[0].lineno} Answerer.ask is {length(asks[0])} lines, "
        f"over {MAX_ASK_LINES}: it should only hand the question to the stages"
    )


# --- the environment ---


def environment_uses(module: Module) -> Iterator[tuple[int, str]]:
    """(line, source) for each read or write of the process environment through `os`:
    os.environ / os.getenv / os.putenv ... (under any alias of os), and `from os import environ`
    and the like (which covers a later `environ.get`). A WSGI `request.environ` is not it."""
    os_names = {"os"} | {
        alias.asname
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os" and alias.asname
    }
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
            taken = [a.name for a in node.names if a.name in ENVIRONMENT_NAMES | {"*"}]
            if taken:
                yield node.lineno, ast.unparse(node)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            yield node.lineno, ast.unparse(node)


def test_the_environment_is_read_only_in_settings():
    settings = modules()["index.settings"]
    assert list(environment_uses(settings)), (
        f"{SETTINGS} no longer reads os.environ: this check's detector needs updating"
    )
    offenders = [
        f"{m.rel}:{line} {source}"
        for m in sorted(in_layers(*LAYERS), key=lambda m: m.rel)
        if m.rel != SETTINGS
        for line, source in environment_uses(m)
    ]
    assert not offenders, (
        f"the environment is read outside {SETTINGS} (take a Settings value instead):\n"
        + "\n".join(offenders)
    )
