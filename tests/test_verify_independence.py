"""verify/ stays independent of what it verifies: of psbtbridge it imports only the error
types (and itself), in its source and at run time (restructure issue, item 3)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import psbtbridge.verify

PACKAGE = Path(psbtbridge.verify.__file__).resolve().parent
ALLOWED = {"psbtbridge.errors"}
#: What the signer computes with; the verifier must reach none of it, even indirectly.
CHECKED_CODE = ("psbtbridge.sighash", "psbtbridge.script", "psbtbridge.tx", "psbtbridge.psbt")


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports hide what is imported"
            assert node.module is not None
            names.add(node.module)
            # `from psbtbridge import tx` imports a module by its attribute name.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _ours(name: str) -> bool:
    return name == "psbtbridge" or name.startswith("psbtbridge.")


def _allowed(name: str) -> bool:
    return name in ALLOWED or name == "psbtbridge.verify" or name.startswith("psbtbridge.verify.")


def test_every_module_imports_only_the_errors_and_itself() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert {path.name for path in modules} >= {"__init__.py", "secp256k1.py"}
    for path in modules:
        imported = _imported(ast.parse(path.read_text(), str(path)))
        from_ours = {name for name in imported if _ours(name)}
        # "from psbtbridge.errors import Refused" also yields psbtbridge.errors.Refused.
        bad = {
            name
            for name in from_ours
            if not _allowed(name) and not any(name.startswith(f"{a}.") for a in ALLOWED)
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"
        assert not {n for n in imported if n.startswith(CHECKED_CODE)}, path.name


def _loaded_after(code: str) -> list[str]:
    """Modules of ours loaded by a fresh interpreter after running code."""
    script = (
        f"import sys, json\n{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'psbtbridge')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PACKAGE.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(run.stdout)
    return loaded


def test_at_run_time_it_loads_nothing_else_of_ours() -> None:
    """Every module of the package imported, and a finished P2PKH and P2WPKH input checked
    (which loads bitcointx's interpreter): nothing but the errors and the package itself."""
    modules = [
        "psbtbridge.verify." + path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"
    ]
    code = "\n".join(
        [
            "import importlib",
            f"for name in {modules!r}: importlib.import_module(name)",
            "from psbtbridge.errors import Refused",
            "from psbtbridge.verify import Verifier",
            # one input, one output, empty scriptSig: fails its checks, having run them
            "raw = bytes.fromhex('01000000' '01' + '11' * 32 + '00000000' '00' 'ffffffff'"
            " '01' '0100000000000000' '0151' '00000000')",
            "for spk in (bytes.fromhex('76a914' + '22' * 20 + '88ac'), b'\\x00\\x14' + bytes(20)):",
            "    try: Verifier(raw, [(spk, 1)]).check_final_input(0)",
            "    except Refused: pass",
            "    else: raise AssertionError('an unsigned input passed')",
        ]
    )
    loaded = _loaded_after(code)
    assert "psbtbridge.verify.interpreter" in loaded  # the interpreter did run
    # psbtbridge itself is loaded as the parent package; its __init__ imports nothing.
    assert [name for name in loaded if name != "psbtbridge" and not _allowed(name)] == []
    assert [name for name in loaded if name.startswith(CHECKED_CODE)] == []
