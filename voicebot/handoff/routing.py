"""Skill routing: rules from a YAML file that designers edit map a call to a queue.

The first rule whose conditions all match wins (like a firewall or a mail filter: easy
to read top to bottom); no match means the fallback queue. See routing.yml for the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RULES_FILE = Path(__file__).with_name("routing.yml")
CONDITIONS = ("intent", "reason", "tier", "emotion", "language")


class RoutingError(ValueError):
    """The routing file is unreadable or inconsistent; the message says where and why."""


@dataclass(frozen=True)
class CallFacts:
    """What routing may look at, all taken from the call's own state."""

    intent: str | None = None
    reason: str | None = None
    tier: str | None = None
    emotion: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict[str, frozenset[str]]
    queue: str
    priority: int

    def matches(self, facts: CallFacts) -> bool:
        return all(getattr(facts, key) in values for key, values in self.when.items())


@dataclass(frozen=True)
class Route:
    queue: str
    priority: int
    rule: str  # the rule's name, or "fallback"


@dataclass(frozen=True)
class RoutingRules:
    queues: dict[str, str]
    rules: tuple[Rule, ...]
    fallback: Route
    source: Path | None = field(default=None, compare=False)

    def route(self, facts: CallFacts) -> Route:
        for rule in self.rules:
            if rule.matches(facts):
                return Route(rule.queue, rule.priority, rule.name)
        return self.fallback


def _values(value: Any, where: str) -> frozenset[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, (str, int, float)) and str(v).strip() for v in values):
        raise RoutingError(f"{where}: give a value or a list of values")
    return frozenset(str(v) for v in values)


def _priority(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoutingError(f"{where}: priority must be a whole number")
    return value


def parse_rules(data: Any, source: Path | None = None) -> RoutingRules:
    """Checks everything a designer can get wrong and says where: RoutingError otherwise."""
    name = source.name if source else "routing rules"
    if not isinstance(data, dict):
        raise RoutingError(f"{name}: expected 'queues', 'rules' and 'fallback' sections")
    queues = data.get("queues")
    if not isinstance(queues, dict) or not queues:
        raise RoutingError(f"{name}: 'queues' must list at least one queue with a description")
    queues = {str(k): str(v) for k, v in queues.items()}

    def known_queue(queue: Any, where: str) -> str:
        if str(queue) not in queues:
            raise RoutingError(f"{where}: queue {queue!r} is not listed under 'queues' ({', '.join(queues)})")
        return str(queue)

    rules = []
    for number, raw in enumerate(data.get("rules") or [], 1):
        where = f"{name}, rule {number}" + (f" ({raw.get('name')})" if isinstance(raw, dict) and raw.get("name") else "")
        if not isinstance(raw, dict):
            raise RoutingError(f"{where}: a rule needs 'when', 'queue' and 'priority'")
        when = raw.get("when")
        if not isinstance(when, dict) or not when:
            raise RoutingError(f"{where}: 'when' must name at least one condition ({', '.join(CONDITIONS)})")
        unknown = set(when) - set(CONDITIONS)
        if unknown:
            raise RoutingError(f"{where}: unknown condition(s) {', '.join(sorted(unknown))}; use {', '.join(CONDITIONS)}")
        rules.append(
            Rule(
                name=str(raw.get("name") or f"rule {number}"),
                when={key: _values(value, f"{where}, {key}") for key, value in when.items()},
                queue=known_queue(raw.get("queue"), where),
                priority=_priority(raw.get("priority", 1), where),
            )
        )
    fallback = data.get("fallback")
    if not isinstance(fallback, dict):
        raise RoutingError(f"{name}: 'fallback' must give the queue (and priority) for calls no rule matches")
    route = Route(known_queue(fallback.get("queue"), f"{name}, fallback"), _priority(fallback.get("priority", 1), f"{name}, fallback"), "fallback")
    return RoutingRules(queues, tuple(rules), route, source)


def load_rules(path: Path = DEFAULT_RULES_FILE) -> RoutingRules:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise RoutingError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RoutingError(f"{path}: not valid YAML: {error}") from None
    return parse_rules(data, Path(path))
