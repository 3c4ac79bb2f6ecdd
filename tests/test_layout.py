"""The layout: every import between dezero's modules points down, and none takes a private name.

Read from the source with `ast`, lazy imports inside functions included: an import that waits
for a call is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dezero_cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[tuple[str, str | None]]]:
    """Each module's imports of dezero_cli modules: (module, name taken from it or None)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    out: dict[str, set] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("dezero_cli"):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:  # `from . import api`: the module itself
                        found.add((sub, None))
                    else:
                        found.add((target, alias.name))
            elif isinstance(node, ast.Import):
                found.update((a.name, None) for a in node.names if a.name.startswith("dezero_cli"))
        out[name] = {(m, n) for m, n in found if m != name}
    return out


def test_no_private_name_is_imported_across_modules():
    private = sorted(
        f"{module} imports {name} from {target}"
        for module, found in imports().items()
        for target, name in found
        if name is not None and name.startswith("_") and name != "__version__"
    )
    assert private == []


def test_the_import_graph_has_no_cycle():
    found_by = imports()
    graph = {m: {t for t, _ in found if t in found_by} for m, found in found_by.items()}
    # A package's __init__ importing its own modules is how a package is made, not a cycle.
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles = []
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                cycles.append(path[path.index(child) :] + [child])
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    assert cycles == []


def test_the_engine_knows_no_language_and_the_language_no_commands():
    commands = ("dezero_cli.cli", "dezero_cli.commands")
    lower = {
        "dezero_cli.engine": {"dezero_cli.language", "dezero_cli.api", *commands},
        "dezero_cli.language": {"dezero_cli.api", "dezero_cli.batch", *commands},
        "dezero_cli.api": {"dezero_cli.batch", "dezero_cli.options", *commands},
        "dezero_cli.batch": {"dezero_cli.options", *commands},
        "dezero_cli.commands": {"dezero_cli.cli"},
    }
    wrong = sorted(
        f"{module} imports {target}"
        for module, found in imports().items()
        for layer, above in lower.items()
        if module == layer or module.startswith(layer + ".")
        for target, _ in found
        if any(target == a or target.startswith(a + ".") for a in above)
    )
    assert wrong == []


# Generated data, not code a person reads: the LALR tables.
GENERATED = {"dezero_cli.language.tables"}


def test_no_module_is_much_over_400_lines():
    sizes = {
        module_name(p): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
        if module_name(p) not in GENERATED
    }
    assert {m: n for m, n in sizes.items() if n > 450} == {}
