"""Knowledge articles on disk: Markdown files with YAML front matter.

    ---
    id: returns-and-refunds          # unique, lower-case words joined by hyphens
    title: Returns and refunds
    kind: policy                     # policy | faq | script
    tags: [returns, refunds]
    intents: [check_refund_policy]   # Rasa intents this article answers
    language: en
    related: [damaged-or-missing-parcels]
    spoken: >                        # policy and faq: one or two sentences the bot says
      You can return most items within 30 days ...
    questions:                       # optional: ways callers ask it, to help retrieval
      - can I send this back
    ---
    The full text, for agents and the web.

Scripts (approved agent phrasings) need no `spoken` answer: their text is the script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ARTICLES_DIR = Path(__file__).with_name("articles")
KINDS = ("policy", "faq", "script")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SPOKEN_SENTENCES = 2
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.DOTALL)


class ContentError(ValueError):
    """An article that cannot be read at all (no front matter, broken YAML)."""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    kind: str
    body: str
    path: Path
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    language: str = "en"
    spoken: str | None = None
    questions: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # unknown front-matter keys, reported by check()


KNOWN_KEYS = {"id", "title", "kind", "tags", "intents", "related", "language", "spoken", "questions"}


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_article(path: Path) -> Article:
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        raise ContentError(f"{path}: no front matter (the file must start with a line '---')")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: front matter must be 'key: value' lines")
    spoken = meta.get("spoken")
    return Article(
        id=str(meta.get("id") or ""),
        title=str(meta.get("title") or ""),
        kind=str(meta.get("kind") or ""),
        body=match.group(2).strip(),
        path=path,
        tags=_words(meta.get("tags")),
        intents=_words(meta.get("intents")),
        related=_words(meta.get("related")),
        language=str(meta.get("language") or "en"),
        spoken=" ".join(str(spoken).split()) if spoken else None,
        questions=_words(meta.get("questions")),
        extra={k: v for k, v in meta.items() if k not in KNOWN_KEYS},
    )


def article_paths(folder: Path = ARTICLES_DIR) -> list[Path]:
    return sorted(folder.rglob("*.md"))


def load_articles(folder: Path = ARTICLES_DIR) -> list[Article]:
    """Every article under `folder`; ContentError for a file that cannot be read."""
    return [parse_article(path) for path in article_paths(folder)]


def check(folder: Path = ARTICLES_DIR, known_intents: set[str] | None = None) -> list[str]:
    """Everything wrong with the content, one clear message per problem (empty = fine)."""
    problems: list[str] = []
    articles: list[Article] = []
    for path in article_paths(folder):
        try:
            articles.append(parse_article(path))
        except ContentError as error:
            problems.append(str(error))
    if not articles and not problems:
        problems.append(f"{folder}: no articles (*.md) found")
    seen: dict[str, Path] = {}
    for a in articles:
        where = a.path.relative_to(folder) if a.path.is_relative_to(folder) else a.path
        if not a.id:
            problems.append(f"{where}: missing 'id'")
        elif not ID_PATTERN.match(a.id):
            problems.append(f"{where}: id {a.id!r} must be lower-case words joined by hyphens")
        elif a.id in seen:
            problems.append(f"{where}: duplicate id {a.id!r} (also in {seen[a.id].name})")
        else:
            seen[a.id] = a.path
        if not a.title:
            problems.append(f"{where}: missing 'title'")
        if a.kind not in KINDS:
            problems.append(f"{where}: kind {a.kind!r} must be one of {', '.join(KINDS)}")
        if not a.body:
            problems.append(f"{where}: no text after the front matter")
        if a.kind in ("policy", "faq"):
            if not a.spoken:
                problems.append(f"{where}: a {a.kind} needs a 'spoken' answer (one or two sentences the bot says)")
            elif len(re.findall(r"[.!?](\s|$)", a.spoken)) > MAX_SPOKEN_SENTENCES:
                problems.append(f"{where}: 'spoken' has more than {MAX_SPOKEN_SENTENCES} sentences; keep it short for the phone")
        for key in a.extra:
            problems.append(f"{where}: unknown front-matter key {key!r}")
        if known_intents is not None:
            for intent in a.intents:
                if intent not in known_intents:
                    problems.append(f"{where}: intent {intent!r} is not in nlu/domain.yml")
    for a in articles:
        for ref in a.related:
            if ref not in seen:
                problems.append(f"{a.path.name}: related article {ref!r} does not exist")
    return problems
