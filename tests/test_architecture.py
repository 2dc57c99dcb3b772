"""Architecture: the import graph of src/tariffsim runs one way (docs/architecture.md), checked from the source (ast).

Every ``import`` and ``from ... import`` (module level and inside functions) is
resolved to a tariffsim package; a package may import only packages of a lower
layer, never one above it or beside it, so no loop between packages can form.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tariffsim"

#: layer of each top-level part of the package (lower layers never import higher ones)
LAYERS: dict[str, int] = {
    "errors": 0, "_jaxcache": 0, "warnings": 0,
    "safe_load": 1,
    "solve": 2,
    "world": 3,
    "data": 4,
    "policy": 5,
    "models": 6,
    "strategy": 7,
    "scale": 8,
    "api": 9,
    "scenario": 10,
    "run": 11,
    "report": 12,
    "app": 13,
    "cli_update": 14, "dashboard": 14,
    "cli": 15,
    "__init__": 16, "__main__": 16,
}

#: what the issue (#19) forbids outright, whatever the layers say
FORBIDDEN = {
    "report": {"models", "strategy", "solve", "scale", "data", "policy", "scipy.optimize"},
    "data": {"models", "strategy"},
}


def _part(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    rel = path.relative_to(SRC.parent)
    pkg = list(rel.with_suffix("").parts)
    if pkg[-1] == "__init__":
        pkg = pkg[:-1]
    else:
        pkg = pkg[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:   # from . import x  -> each x may be a module
                    out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
                    continue
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names if mod == "scipy"]
    return out


def _edges():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        src = _part(rel)
        for line, mod in _imports(path):
            if mod.startswith("tariffsim."):
                yield rel, line, src, mod.split(".")[1], mod
            elif mod == "tariffsim":
                yield rel, line, src, "__init__", mod
            else:
                yield rel, line, src, None, mod


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(p.relative_to(SRC)) for p in SRC.rglob("*.py")}
    assert not parts - set(LAYERS), f"give these a layer in LAYERS and docs/architecture.md: {sorted(parts - set(LAYERS))}"


def test_imports_run_one_way():
    bad = []
    for rel, line, src, dst, mod in _edges():
        if dst is None or dst == src or src not in LAYERS or dst not in LAYERS:
            continue
        if LAYERS[dst] >= LAYERS[src]:
            bad.append(f"{rel}:{line} ({src}, layer {LAYERS[src]}) imports {mod} ({dst}, layer {LAYERS[dst]})")
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_forbidden_imports(part):
    bad = []
    for rel, line, src, dst, mod in _edges():
        if src != part:
            continue
        for f in FORBIDDEN[part]:
            if dst == f or mod == f or mod.startswith(f + "."):
                bad.append(f"{rel}:{line} imports {mod}")
    assert not bad, f"{part}/ must not import {sorted(FORBIDDEN[part])}:\n" + "\n".join(bad)


def test_no_import_cycles_between_modules():
    """Module-level imports between tariffsim modules form no cycle (imports inside functions included)."""
    mods = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts)
        mods[name] = path
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        for _line, imp in _imports(path):
            while imp and imp not in mods:
                imp = imp.rpartition(".")[0]
            if imp and imp != m and not m.startswith(imp + ".") and not imp.startswith(m + "."):
                graph[m].add(imp)   # a package's __init__ importing its own modules is not a loop
    color, stack, cycles = {}, [], []

    def visit(u):
        color[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if color.get(v) == 1:
                cycles.append(" -> ".join(stack[stack.index(v):] + [v]))
            elif v not in color:
                visit(v)
        stack.pop()
        color[u] = 2

    for m in sorted(graph):
        if m not in color:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_feature_probing_in_the_interfaces():
    """The report and the runner call the API directly: no feature() probing, no inspect.signature."""
    bad = []
    for sub in ("report", "run"):
        for path in (SRC / sub).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for needle in ("feature(", "inspect.signature", "not available in this version", "getattr(api"):
                if needle in text:
                    bad.append(f"{path.relative_to(SRC)}: {needle}")
    assert not bad, bad
