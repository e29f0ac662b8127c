"""The import graph: no cycles anywhere, layers point down, hot/ has no wallet model of its own.

Walks every module's imports statically (module-level ones and those inside functions, the
lazy imports the CLI relies on), so a cycle is found even where it would only show at the
moment a subcommand runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("psbtbridge", "cold", "hot")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside `if TYPE_CHECKING:` blocks: imports for the type checker only."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imported(name: str) -> Iterator[str]:
    """The project modules an import of `name` loads: the module and each parent package."""
    parts = name.split(".")
    for end in range(1, len(parts) + 1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            yield candidate


def _edges(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    skip = _type_checking_lines(tree)
    targets: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.update(_imported(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets.update(_imported(node.module))
            for alias in node.names:  # `from package import module`
                targets.update(_imported(f"{node.module}.{alias.name}"))
    # A module's own parent packages are loaded before it, not by it: no edge back to them.
    ancestors = {".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 2)}
    return targets - ancestors


GRAPH = {module: _edges(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_shared_core_imports_neither_side() -> None:
    for module, targets in GRAPH.items():
        if module.startswith("psbtbridge"):
            assert not {t for t in targets if t.split(".")[0] in ("cold", "hot")}, module


def test_wire_types_do_not_import_the_wallet_model() -> None:
    """script, size, tx, sighash and the PSBT layer sit below the wallet model."""
    low = ("psbtbridge.script", "psbtbridge.size", "psbtbridge.tx", "psbtbridge.sighash")
    for module in low:
        assert not any(t.startswith("psbtbridge.wallet") for t in GRAPH[module]), module


def test_hot_defines_no_wallet_types_of_its_own() -> None:
    """The hot side builds on psbtbridge.wallet: no ScriptType, KeyOrigin or Wallet class,
    and no SLIP-132 version table, of its own."""
    for module, path in MODULES.items():
        if not module.startswith("hot"):
            continue
        tree = ast.parse(path.read_text())
        classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert not classes & {"ScriptType", "KeyOrigin", "Wallet", "AccountKey"}, module
        assert "zpub" not in path.read_text(), module
