"""runner/ has no import cycles (issue #19): read with `ast`, nothing is imported or started.

Every `import runner...` and `from runner... import ...` in every module counts: at module level,
under `if TYPE_CHECKING:` and inside functions, since an import deferred into a function is a
cycle postponed, not removed. `from runner.x import name` is an edge to the module `runner.x.name`
when that is a module, else to `runner.x`; a package's `__init__.py` is the package's module.
Relative imports are resolved against the importing module's package.

A package and its submodules: importing `runner.a.b` runs `runner/a/__init__.py` first, but that
implied edge is not counted, or every package whose `__init__` names its submodules (the lazy
`_HOMES` tables, their `TYPE_CHECKING` imports) would be a cycle. The explicit edges both ways do
count: a submodule that imports its own package (`from runner.measure.k6 import segments` for a
function) while the package imports it is a cycle, and the submodule imports the name from the
submodule that defines it instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.conftest import PROJECT_ROOT

RUNNER = PROJECT_ROOT / "runner"


def module_name(path: Path, root: Path) -> str:
    """`runner/a/b.py` -> runner.a.b; `runner/a/__init__.py` -> runner.a."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imported_names(tree: ast.AST, name: str, is_package: bool) -> Iterable[tuple[str, list[str]]]:
    """(module, names imported from it) for every import anywhere in the tree."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each runner module -> the runner modules it imports."""
    modules = modules_of(root)
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges: set[str] = set()
        for base, names in imported_names(tree, name, path.name == "__init__.py"):
            if base != top and not base.startswith(top + "."):
                continue
            targets = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
            if len(targets) < len(names) or not names:
                # A name that is not a module comes from the module itself.
                targets.append(base)
            for target in targets:
                # `import runner.a.b` names runner.a.b; a missing module is left to the import.
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def shortest_cycle(graph: Mapping[str, Iterable[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as a path that returns to it."""
    start = component[0]
    members = set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def cycles(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One cycle per strongly connected component, each written `a -> b -> a`."""
    return [" -> ".join(shortest_cycle(graph, c)) for c in strongly_connected(graph)]


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {
        "a": {"b"},
        "b": {"c", "d"},
        "c": {"a"},
        "d": {"e"},
        "e": set(),
        "x": {"y"},
        "y": {"x", "e"},
        "self": set(),
    }
    assert cycles(graph) == ["a -> b -> c -> a", "x -> y -> x"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"b", "c"}}) == []


def test_the_graph_resolves_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "runner"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from runner.sub.leaf import f\n"
    )
    (pkg / "sub" / "leaf.py").write_text("def f() -> None:\n    from runner.sub import g\n")
    (pkg / "sub" / "other.py").write_text("from . import leaf\nfrom .leaf import f\nimport os\n")
    (pkg / "top.py").write_text("import runner.sub.other\nfrom runner.sub import leaf, g\n")
    assert import_graph(pkg) == {
        "runner": set(),
        "runner.sub": {"runner.sub.leaf"},
        "runner.sub.leaf": {"runner.sub"},
        "runner.sub.other": {"runner.sub.leaf"},
        "runner.top": {"runner.sub", "runner.sub.leaf", "runner.sub.other"},
    }
    assert cycles(import_graph(pkg)) == ["runner.sub -> runner.sub.leaf -> runner.sub"]


def test_runner_has_no_import_cycles() -> None:
    graph = import_graph(RUNNER)
    assert len(graph) > 50  # the walk found the modules
    found = cycles(graph)
    assert found == [], "import cycles in runner/:\n  " + "\n  ".join(found)


# Data flows config -> plan -> steps -> results -> analysis -> report: a stage imports from the
# stages before it, never from one after it. Each package here and the packages it must not import.
LATER_STAGES = {
    "runner.measure": ["runner.analysis", "runner.report", "runner.compare", "runner.capacity"],
    "runner.records": ["runner.analysis", "runner.report", "runner.compare", "runner.run"],
    "runner.analysis": ["runner.report", "runner.compare", "runner.capacity", "runner.run"],
    "runner.report": ["runner.capacity", "runner.compare", "runner.run"],
}
# The capacity search's decisions (its objective, rules and stored shapes) sit below the records
# and reports that state them; its running parts (driver, trials with k6, live watch) do not.
CAPACITY_DECISIONS = {
    f"runner.capacity.{name}"
    for name in (
        "early_stop",
        "objective",
        "result",
        "search",
        "search_config",
        "settings",
        "trials",
    )
}


def stage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_the_flow_runs_one_way() -> None:
    backwards = [
        f"{module} -> {target}"
        for module, targets in sorted(import_graph(RUNNER).items())
        for target in sorted(targets)
        if stage(target) in LATER_STAGES.get(stage(module), []) and target not in CAPACITY_DECISIONS
    ]
    assert backwards == []
