"""nlu/prompts.yml and the code that says its sentences agree: names, placeholders, nothing left over.

The engine (voicebot) and the Rasa actions (nlu/actions) both say sentences by name,
`say("name", placeholder=value)`. A typo there would only show as a crash on a call,
so these tests read every such call from the source and check it against the file.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import string
from typing import NamedTuple

import yaml

from voicebot.prompts import PROMPTS_FILE, load_prompts
from voicebot.settings import PROJECT_ROOT

ACTIONS_DIR = PROJECT_ROOT / "nlu" / "actions"
SOURCES = sorted(ACTIONS_DIR.glob("*.py")) + sorted((PROJECT_ROOT / "voicebot").rglob("*.py"))


class SayCall(NamedTuple):
    where: str
    names: tuple[str, ...] | None  # the prompt's name, two for say("a" if x else "b"); None when not a literal
    keywords: frozenset[str | None]  # None stands for **values


def is_say(func: ast.expr) -> bool:
    """`say(...)` as imported from a prompts module, or `prompts.say(...)`; not methods such as `dialogue.say`."""
    if isinstance(func, ast.Name):
        return func.id == "say"
    return isinstance(func, ast.Attribute) and func.attr == "say" and isinstance(func.value, ast.Name) and func.value.id == "prompts"


def literal_names(node: ast.expr) -> tuple[str, ...] | None:
    """The prompt names a say() argument can take, or None when they cannot be read from the source."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, orelse = literal_names(node.body), literal_names(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


@functools.cache
def say_calls() -> list[SayCall]:
    """Every say() call in the engine and the actions."""
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and is_say(node.func):
                names = literal_names(node.args[0]) if len(node.args) == 1 else None
                where = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
                calls.append(SayCall(where, names, frozenset(k.arg for k in node.keywords)))
    return calls


def checkable_calls() -> list[SayCall]:
    return [call for call in say_calls() if call.names is not None and None not in call.keywords]


def placeholders(template: str) -> frozenset[str]:
    """'{number} ... {amount:.2f}' -> {'number', 'amount'}."""
    fields = (field for _, field, _, _ in string.Formatter().parse(template) if field is not None)
    return frozenset(re.split(r"[.\[]", field)[0] for field in fields)


PROMPTS = load_prompts()


def test_the_file_is_a_flat_mapping_of_unique_names_to_sentences():
    mapping = yaml.compose(PROMPTS_FILE.read_text(encoding="utf-8"))
    names = [key.value for key, _ in mapping.value]
    assert sorted({n for n in names if names.count(n) > 1}) == []  # a repeated name silently replaces the first
    assert all(isinstance(sentence, str) and sentence.strip() for sentence in PROMPTS.values())


def test_the_actions_read_the_same_file_as_the_engine():
    spec = importlib.util.spec_from_file_location("action_prompts", ACTIONS_DIR / "prompts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PROMPTS_FILE == PROMPTS_FILE.resolve()
    assert module.sentences() == PROMPTS


def test_every_call_names_its_sentence_and_values_so_they_can_be_checked():
    assert {call.where.split("/")[0] for call in say_calls()} == {"nlu", "voicebot"}  # both callers were read
    assert [call.where for call in say_calls() if call not in checkable_calls()] == []


def test_every_name_said_is_in_the_file():
    missing = [f"{call.where}: {name}" for call in checkable_calls() for name in call.names if name not in PROMPTS]
    assert missing == []


def test_every_call_fills_exactly_the_placeholders_of_its_sentence():
    mismatched = [
        f"{call.where}: {name} needs {sorted(placeholders(PROMPTS[name]))}, gets {sorted(call.keywords)}"
        for call in checkable_calls()
        for name in call.names
        if name in PROMPTS and placeholders(PROMPTS[name]) != call.keywords
    ]
    assert mismatched == []


def test_every_sentence_in_the_file_is_said_somewhere():
    said = {name for call in checkable_calls() for name in call.names}
    assert sorted(set(PROMPTS) - said) == []
