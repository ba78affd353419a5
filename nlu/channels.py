"""The engine's channel into Rasa: Rasa's REST channel, but only for whoever holds the Rasa token.

Rasa's own `rest` channel takes messages from anyone who can reach the port, and
`--auth-token` guards the HTTP API only, not channels. `voicebot serve` passes the token
in `VOICEBOT_RASA_TOKEN`; the engine sends it as `Authorization: Bearer ...` to
`/webhooks/engine/webhook`. Designers can still talk to the bot with `rasa shell`.
"""

import hmac
import os
from typing import Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class EngineInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "engine"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        expected = f"Bearer {os.environ.get('VOICEBOT_RASA_TOKEN', '')}".encode()

        @webhook.middleware("request")
        async def require_token(request: Request) -> Optional[HTTPResponse]:
            given = request.headers.get("authorization", "").encode()
            if len(expected) <= len("Bearer ") or not hmac.compare_digest(given, expected):
                return response.json({"error": "unauthorized"}, status=401)
            return None

        return webhook
