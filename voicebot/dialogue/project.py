"""What the engine reads from the Rasa project (nlu/) without running Rasa."""

from __future__ import annotations

from pathlib import Path

import yaml


def domain_intents(nlu_dir: Path) -> set[str]:
    """The intents nlu/domain.yml declares (knowledge articles may only name these)."""
    domain = yaml.safe_load((nlu_dir / "domain.yml").read_text()) or {}
    return set(domain.get("intents") or [])
