"""The deployment's secrets: tokens the engine, its clients and its internal services share.

Each is a random token in `<data_dir>/secrets/<name>` (folder 0700, file 0600), created by
whichever process needs it first and never written anywhere else; a process on the same
machine with read access to the data directory (the action server, the CLI, the tests) is
trusted. `VOICEBOT_SERVICE_TOKEN` overrides the service token where several engines must
share one (workers behind a proxy).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from voicebot.settings import Settings

SERVICE_TOKEN = "service-token"  # the engine's API, for its trusted clients: the Rasa actions, the CLI, tests
RASA_TOKEN = "rasa-token"  # Rasa's HTTP API (`--auth-token`) and the engine's channel into Rasa
ACTION_TOKEN = "action-token"  # the action server's webhook, which only Rasa calls
CARRIER_KEY = "carrier-key"  # what the carrier shows on the media stream and the transfer TwiML (no Twilio auth token set)


def deployment_secret(settings: Settings, name: str) -> str:
    """The named token of this deployment, created (0600) on first use."""
    if name == SERVICE_TOKEN and settings.service_token:
        return settings.service_token.get_secret_value()
    folder = settings.data_dir / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    if path.exists():
        return _read(path)
    token = secrets.token_urlsafe(32)
    draft = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
    try:
        os.link(draft, path)  # atomic: a process racing us reads a whole token, ours or its own
    except FileExistsError:
        token = _read(path)
    finally:
        draft.unlink()
    return token


def _read(path: Path) -> str:
    token = path.read_text().strip()
    if len(token) < 32:
        raise RuntimeError(f"{path} holds no usable token (delete it and a new one is made at the next start)")
    return token


def service_headers(settings: Settings) -> dict[str, str]:
    """What a trusted client on this machine sends to the engine's API."""
    return {"Authorization": f"Bearer {deployment_secret(settings, SERVICE_TOKEN)}"}


def carrier_key(settings: Settings) -> str:
    """What a carrier without Twilio's signature shows the engine: the media stream's `key` parameter."""
    return deployment_secret(settings, CARRIER_KEY)
