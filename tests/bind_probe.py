"""Starts the whole bot with VOICEBOT_HOST=0.0.0.0 and an internal port, and prints, as JSON, every TCP
socket listening then and what the data API answers on each port: run inside a fresh network namespace by tests/test_security.py (`unshare -n`), so the wildcard
address reaches nothing but that namespace's own loopback.

    python -m tests.bind_probe DATA_DIR
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from pathlib import Path

import httpx

from tests.bot_stack import stack_settings
from tests.pg_server import free_port
from voicebot.credentials import service_headers
from voicebot.runtime.stack import EngineStack


def listening_sockets() -> list[tuple[str, int]]:
    """(address, port) of each IPv4 TCP socket in LISTEN state, from /proc/net/tcp."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":
            address, port = local.split(":")
            found.append((socket.inet_ntoa(struct.pack("<I", int(address, 16))), int(port, 16)))
    return found


def main(data_dir: Path) -> None:
    settings = stack_settings(data_dir, host="0.0.0.0", internal_port=free_port())
    stack = EngineStack(settings)
    try:
        stack.start(train_first=False)
        ports = {
            "engine": settings.port, "internal": settings.internal_port, "rasa": settings.rasa_port,
            "action_server": settings.action_port, "tts": settings.tts_port,
        }
        public = f"http://127.0.0.1:{settings.port}"
        answers = {
            "public_orders": httpx.get(f"{public}/api/v1/orders", headers=service_headers(settings)).status_code,
            "public_health": httpx.get(f"{public}/health").status_code,
            "internal_orders": httpx.get(f"{settings.engine_url}/api/v1/orders", headers=service_headers(settings)).status_code,
        }
        print(json.dumps({"ports": ports, "listening": listening_sockets(), "answers": answers}), flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
