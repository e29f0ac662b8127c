"""The folder boundary is the trust boundary: checked statically on the source and at run time."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.psbt_cli import loaded_modules

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("psbtbridge", "cold", "hot")
# Anything that can open a connection. The cold qube has no netvm, but its code must not even try.
NETWORKING = {
    "socket", "ssl", "http", "urllib", "asyncio", "socketserver", "ftplib", "smtplib",
    "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc", "requests", "urllib3", "aiohttp",
    "bitcointx.rpc", "embit.liquid",
}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports in functions count)."""
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _closure(start: str, sources: dict[str, Path]) -> dict[str, str]:
    """Modules reachable from start through our own packages: {module: first importer}."""
    seen: dict[str, str] = {start: start}
    todo = [start]
    while todo:
        current = todo.pop()
        for imported in _imports(sources[current]):
            candidates = [imported, imported.rpartition(".")[0]]
            for name in candidates:
                if name and name not in seen:
                    seen[name] = current
                    if name in sources:
                        todo.append(name)
    return seen


def _is(name: str, forbidden: set[str]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def test_cold_reaches_no_hot_and_no_networking() -> None:
    sources = _sources()
    cold = [name for name in sources if name == "cold" or name.startswith("cold.")]
    assert cold, "no cold modules found"
    for module in cold:
        for name, importer in _closure(module, sources).items():
            assert not _is(name, {"hot", *NETWORKING}), f"{module} reaches {name} (via {importer})"


def test_hot_never_imports_cold() -> None:
    sources = _sources()
    for module in (n for n in sources if n == "hot" or n.startswith("hot.")):
        for name, importer in _closure(module, sources).items():
            assert not _is(name, {"cold"}), f"{module} reaches {name} (via {importer})"


def test_core_imports_neither_side() -> None:
    """psbtbridge/ is shared: it may name cold/hot modules only as strings in the CLI table."""
    sources = _sources()
    for module in (n for n in sources if n.startswith("psbtbridge")):
        direct = _imports(sources[module])
        assert not any(_is(name, {"cold", "hot"}) for name in direct), f"{module} imports {direct}"


#: The standard library's pathlib imports urllib.parse (string quoting, no I/O) at start-up.
STARTUP_PARSING = {"urllib", "urllib.parse"}


def test_psbt_sign_loads_no_hot_or_network_module_at_run_time() -> None:
    loaded = loaded_modules(["sign", "/nonexistent.psbt"])  # fails after every import
    assert "cold.commands.sign" in loaded
    assert not {m for m in loaded - STARTUP_PARSING if _is(m, {"hot", *NETWORKING})}


def test_psbt_send_loads_no_cold_module_at_run_time() -> None:
    loaded = loaded_modules(["send", "/nonexistent.psbt", "--to", "electrum"])
    assert "hot.commands.send" in loaded
    assert not {m for m in loaded if _is(m, {"cold"})}
