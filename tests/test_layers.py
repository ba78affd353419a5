"""The layering of docs/architecture.md, checked on the code: who may import whom.

Each folder of voicebot/ is one layer; a layer may import only the layers listed for
it below (and itself). The product never imports the benchmarks (eval/), the voice
layer knows no carrier, and only voicebot/voice/compat.py touches pipecat's private
members. Imports are read with `ast`, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# layer -> the layers it may import (besides itself). Leaves first.
ALLOWED: dict[str, set[str]] = {
    "knowledge": set(),
    "voicebot.domain": set(),
    "voicebot.events": set(),
    "voicebot.settings": {"knowledge", "voicebot.handoff"},  # default paths of the articles and the routing rules
    "voicebot.prompts": {"voicebot.settings"},
    "voicebot.credentials": {"voicebot.settings"},
    "voicebot.store": {"voicebot.domain", "voicebot.settings"},
    "voicebot.emotion": {"knowledge"},
    "voicebot.handoff": {"voicebot.domain", "voicebot.store", "voicebot.events", "voicebot.prompts"},
    "voicebot.dialogue": {
        "voicebot.domain", "voicebot.store", "voicebot.events", "voicebot.prompts", "voicebot.handoff", "voicebot.emotion",
        "voicebot.settings",
    },
    "voicebot.voice": {"voicebot.domain", "voicebot.dialogue", "voicebot.handoff", "voicebot.prompts", "voicebot.settings"},
    "voicebot.telephony": {
        "voicebot.voice", "voicebot.domain", "voicebot.dialogue", "voicebot.prompts", "voicebot.settings", "voicebot.credentials",
    },
    "voicebot.desk": {"voicebot.domain", "voicebot.store", "voicebot.events", "voicebot.handoff", "voicebot.prompts"},
    "voicebot.api": {
        "knowledge", "voicebot.domain", "voicebot.store", "voicebot.events", "voicebot.prompts", "voicebot.handoff",
        "voicebot.emotion", "voicebot.dialogue", "voicebot.voice", "voicebot.telephony", "voicebot.desk", "voicebot.settings",
        "voicebot.credentials",
    },
    "voicebot.runtime": {"voicebot.api", "voicebot.dialogue", "voicebot.voice", "voicebot.settings", "voicebot.credentials"},
    "voicebot.cli": {
        "knowledge", "voicebot.domain", "voicebot.store", "voicebot.handoff", "voicebot.desk", "voicebot.dialogue",
        "voicebot.runtime", "voicebot.telephony", "voicebot.settings", "voicebot.credentials",
    },
}
# voicebot/__init__.py only sets the BLAS thread count; every layer may read it.
ANYONE = {"voicebot"}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to: the longest ALLOWED key it starts with."""
    matches = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len) if matches else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, absolute, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def product_files() -> list[Path]:
    return sorted([*(ROOT / "voicebot").rglob("*.py"), *(ROOT / "knowledge").rglob("*.py")])


def test_every_product_module_is_in_a_layer() -> None:
    unplaced = [module_name(p) for p in product_files() if module_name(p) != "voicebot" and layer_of(module_name(p)) is None]
    assert not unplaced, f"modules outside every layer of tests/test_layers.py (add them to ALLOWED): {unplaced}"


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path: Path) -> None:
    here = layer_of(module_name(path))
    if here is None:
        return  # voicebot/__init__.py
    wrong = []
    for line, imported in imports_of(path):
        if imported.split(".")[0] == "eval":
            wrong.append(f"line {line}: {imported} (the product never imports the benchmarks)")
            continue
        target = layer_of(imported)
        if imported in ANYONE or target is None or target == here:
            continue
        if target not in ALLOWED[here]:
            wrong.append(f"line {line}: {imported} ({here} may import only {sorted(ALLOWED[here]) or 'nothing of ours'})")
    assert not wrong, f"{path.relative_to(ROOT)}:\n" + "\n".join(wrong)


def code_words(tree: ast.AST) -> list[tuple[int, str]]:
    """The names and string constants the code uses; docstrings and comments may explain, code may not know."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            words.append((node.lineno, node.attr))
        elif isinstance(node, ast.arg):
            words.append((node.lineno, node.arg))
        elif isinstance(node, ast.keyword) and node.arg:
            words.append((node.value.lineno, node.arg))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append((node.lineno, node.value))
    return words


def test_the_voice_layer_knows_no_carrier() -> None:
    """No name or string in voicebot/voice belongs to a carrier's wire protocol: the SIP gateway reuses it as it is."""
    carrier_words = ("twilio", "streamsid", "stream_sid", "stream_id", "callsid", "twiml", "mark")
    found = [
        f"{p.relative_to(ROOT)}:{line}: {word!r}"
        for p in sorted((ROOT / "voicebot" / "voice").rglob("*.py"))
        for line, word in code_words(ast.parse(p.read_text(), str(p)))
        if any(w in word.lower() for w in carrier_words)
    ]
    assert not found, "carrier details in the voice layer:\n" + "\n".join(found)


def private_names_used(tree: ast.AST) -> set[str]:
    """`x._name` attribute reads of names the module does not define itself (assign, def or class attribute)."""
    used: set[str] = set()
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name.startswith("_"):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id.startswith("_"):
            defined.add(node.id)
    return used - defined


def pipecat_private_names() -> set[str]:
    """Every private attribute name pipecat's own source assigns or defines."""
    import pipecat

    names: set[str] = set()
    for source in Path(pipecat.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr.startswith("_"):
                names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_") and not node.name.startswith("__"):
                names.add(node.name)
    return names


def test_only_the_compat_module_touches_pipecat_private_members() -> None:
    pipecat_private = pipecat_private_names()
    compat = ROOT / "voicebot" / "voice" / "compat.py"
    offenders = []
    for path in product_files():
        if path == compat:
            continue
        tree = ast.parse(path.read_text(), str(path))
        if not any(imported.startswith("pipecat") for _, imported in imports_of(path)):
            continue
        touched = sorted(private_names_used(tree) & pipecat_private)
        if touched:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(touched)}")
    assert not offenders, "pipecat private members used outside voicebot/voice/compat.py:\n" + "\n".join(offenders)
