"""Skill routing rules: first match wins, every field can decide, mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voicebot.handoff.routing import (
    DEFAULT_RULES_FILE,
    CallFacts,
    RoutingError,
    load_rules,
    parse_rules,
)

RULES = load_rules()
DOMAIN_INTENTS = set(yaml.safe_load(Path("nlu/domain.yml").read_text())["intents"])


@pytest.mark.parametrize(
    ("facts", "queue", "priority"),
    [
        (CallFacts(intent="contact_human_agent", reason="contact_human_agent", tier="vip", emotion="angry"), "vip", 10),
        (CallFacts(intent="track_order", tier="standard", language="es"), "spanish", 5),
        (CallFacts(intent="track_order", reason="contact_human_agent", emotion="frustrated"), "complaints", 8),
        (CallFacts(intent="complaint", reason="complaint", emotion="neutral"), "complaints", 6),
        (CallFacts(intent="affirm", reason="outside_return_window"), "after_sales", 4),
        (CallFacts(intent="get_refund", reason="contact_human_agent"), "after_sales", 4),
        (CallFacts(intent="track_order", reason="contact_human_agent", tier="standard", language="en"), "logistics", 4),
        (CallFacts(intent="inform", reason="order_not_found"), "logistics", 3),
        (CallFacts(intent="ask_policy", reason="no_knowledge_answer"), "general", 1),
        (CallFacts(), "general", 1),
    ],
)
def test_shipped_rules_route_each_kind_of_call(facts, queue, priority) -> None:
    route = RULES.route(facts)
    assert (route.queue, route.priority) == (queue, priority)


def test_first_matching_rule_wins_and_names_itself() -> None:
    rules = parse_rules(
        {
            "queues": {"a": "A", "b": "B", "c": "C"},
            "rules": [
                {"name": "angry vips", "when": {"tier": "vip", "emotion": ["angry"]}, "queue": "a", "priority": 9},
                {"name": "vips", "when": {"tier": "vip"}, "queue": "b", "priority": 5},
            ],
            "fallback": {"queue": "c"},
        }
    )
    assert rules.route(CallFacts(tier="vip", emotion="angry")).rule == "angry vips"
    assert rules.route(CallFacts(tier="vip", emotion="happy")).rule == "vips"  # every condition must match
    assert rules.route(CallFacts(emotion="angry")).queue == "c"
    assert rules.route(CallFacts(emotion="angry")).priority == 1  # fallback priority defaults to 1


def test_shipped_rules_name_only_real_intents_and_queues() -> None:
    assert DEFAULT_RULES_FILE.exists()
    for rule in RULES.rules:
        assert rule.queue in RULES.queues
        assert rule.when.get("intent", frozenset()) <= DOMAIN_INTENTS, rule.name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not a mapping", "expected 'queues'"),
        ({"queues": {}, "fallback": {"queue": "x"}}, "at least one queue"),
        ({"queues": {"a": "A"}, "rules": [{"when": {"mood": "x"}, "queue": "a"}], "fallback": {"queue": "a"}}, "unknown condition(s) mood"),
        ({"queues": {"a": "A"}, "rules": [{"name": "r", "when": {"tier": "vip"}, "queue": "nope"}], "fallback": {"queue": "a"}}, "rule 1 (r): queue 'nope' is not listed"),
        ({"queues": {"a": "A"}, "rules": [{"when": {}, "queue": "a"}], "fallback": {"queue": "a"}}, "'when' must name"),
        ({"queues": {"a": "A"}, "rules": [{"when": {"tier": []}, "queue": "a"}], "fallback": {"queue": "a"}}, "tier: give a value"),
        ({"queues": {"a": "A"}, "rules": [{"when": {"tier": "x"}, "queue": "a", "priority": "high"}], "fallback": {"queue": "a"}}, "priority must be a whole number"),
        ({"queues": {"a": "A"}, "rules": []}, "'fallback' must give"),
        ({"queues": {"a": "A"}, "fallback": {"queue": "b"}}, "fallback: queue 'b'"),
    ],
)
def test_mistakes_in_the_rules_file_are_named(data, message) -> None:
    with pytest.raises(RoutingError) as error:
        parse_rules(data)
    assert message in str(error.value)


def test_unreadable_files_say_so(tmp_path) -> None:
    with pytest.raises(RoutingError, match="cannot read"):
        load_rules(tmp_path / "missing.yml")
    broken = tmp_path / "routing.yml"
    broken.write_text("queues: [unclosed\n")
    with pytest.raises(RoutingError, match="not valid YAML"):
        load_rules(broken)
