"""Knowledge articles: the shipped content is valid, and `voicebot kb check` names every problem."""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.content import ARTICLES_DIR, check, load_articles
from voicebot.cli import main
from voicebot.settings import PROJECT_ROOT

DOMAIN_INTENTS = set(yaml.safe_load((PROJECT_ROOT / "nlu" / "domain.yml").read_text())["intents"])

GOOD = """---
id: {id}
title: A title
kind: policy
tags: [returns]
intents: [check_refund_policy]
related: [{related}]
spoken: You can return items within 30 days.
---
Full text.
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_shipped_articles_are_valid_and_cover_the_policy_intents() -> None:
    assert check(ARTICLES_DIR, DOMAIN_INTENTS) == []
    articles = load_articles()
    assert {a.kind for a in articles} == {"policy", "faq", "script"}
    answered = {i for a in articles if a.kind != "script" for i in a.intents}
    assert {"check_refund_policy", "check_cancellation_fee", "check_payment_methods", "delivery_options"} <= answered
    refunds = next(a for a in articles if a.id == "returns-and-refunds")
    assert refunds.spoken.startswith("You can return most items within 30 days") and "\n" not in refunds.spoken


def test_every_problem_gets_its_own_clear_message(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD.format(id="returns", related="returns"))
    write(tmp_path, "b.md", GOOD.format(id="returns", related="no-such-article"))  # duplicate id, dangling related
    write(tmp_path, "c.md", "---\nid: Bad Id\ntitle: T\nkind: memo\nintents: [not_an_intent]\ncolour: blue\n---\nText\n")
    write(tmp_path, "d.md", "---\nid: no-spoken\ntitle: T\nkind: faq\n---\nText\n")
    write(tmp_path, "e.md", "no front matter here\n")
    write(tmp_path, "f.md", "---\nid: [unclosed\n---\nText\n")
    write(tmp_path, "g.md", "---\nid: too-long\ntitle: T\nkind: policy\nspoken: One. Two. Three.\n---\nText\n")
    lines = check(tmp_path, DOMAIN_INTENTS)
    problems = "\n".join(lines)
    for expected in (
        "b.md: duplicate id 'returns' (also in a.md)",
        "related article 'no-such-article' does not exist",
        "c.md: id 'Bad Id' must be lower-case words joined by hyphens",
        "c.md: kind 'memo' must be one of policy, faq, script",
        "c.md: intent 'not_an_intent' is not in nlu/domain.yml",
        "c.md: unknown front-matter key 'colour'",
        "d.md: a faq needs a 'spoken' answer",
        "e.md: no front matter",
        "f.md: front matter is not valid YAML",
        "g.md: 'spoken' has more than 2 sentences",
    ):
        assert expected in problems, expected
    assert not any(line.startswith("a.md:") for line in lines)  # the good article itself is fine


def test_kb_check_command_fails_on_bad_content(tmp_path: Path, capsys) -> None:
    assert main(["kb", "check"]) == 0
    write(tmp_path, "x.md", "---\nid: x\ntitle: T\nkind: faq\n---\nText\n")
    assert main(["kb", "check", "--folder", str(tmp_path)]) == 1
    assert "a faq needs a 'spoken' answer" in capsys.readouterr().out


def test_the_articles_the_actions_name_exist() -> None:
    """nlu/actions/actions.py maps article ids to tasks (ARTICLE_TASKS); a renamed article
    would silently stop the bot taking the number given next for that task."""
    import ast

    source = ast.parse((PROJECT_ROOT / "nlu" / "actions" / "actions.py").read_text(encoding="utf-8"))
    [mapping] = [
        node.value for node in source.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ARTICLE_TASKS" for t in node.targets)
    ]
    named = set(ast.literal_eval(mapping))
    assert named and named <= {a.id for a in load_articles(ARTICLES_DIR)}
