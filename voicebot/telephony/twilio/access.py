"""Who may open a media stream or fetch the transfer TwiML: Twilio for this account, nobody else.

With the account's auth token configured (`VOICEBOT_TWILIO_AUTH_TOKEN`), Twilio's own
`X-Twilio-Signature` is checked: HMAC-SHA1 of the URL Twilio requested (and, for a form
POST, its parameters sorted by name), base64, per Twilio's webhook security docs. Without
it, the deployment's carrier key is the proof: the `<Stream>` passes it as a `<Parameter
name="key">` (Twilio allows no query string on stream URLs) and the transfer URL as
`?key=...`. The key is `<data_dir>/secrets/carrier-key`, printed by `voicebot secret carrier-key`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from starlette.datastructures import URL, QueryParams

from voicebot.credentials import carrier_key
from voicebot.settings import Settings

KEY_PARAMETER = "key"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """What Twilio sends as X-Twilio-Signature for a request to `url` with form `params`."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class CarrierAccess:
    def __init__(self, settings: Settings) -> None:
        token = settings.twilio_auth_token
        self.auth_token = token.get_secret_value() if token else None
        self.key = None if self.auth_token else carrier_key(settings)

    def signed(self, url: URL, signature: str | None, params: Mapping[str, str] | None = None) -> bool:
        """Whether the request (as Twilio addressed it: scheme and host as the client saw them) is Twilio's."""
        return self.auth_token is not None and _same(signature, twilio_signature(self.auth_token, str(url), params or {}))

    def stream_allowed(self, url: URL, signature: str | None) -> bool:
        """At the WebSocket upgrade: signed, or (no auth token) let through to show its key in `start`."""
        return self.auth_token is None or self.signed(url, signature)

    def stream_key_ok(self, parameters: Mapping[str, str]) -> bool:
        """In `start`: the carrier key among the custom parameters (signed streams need none)."""
        return self.key is None or _same(parameters.get(KEY_PARAMETER), self.key)

    def twiml_allowed(self, url: URL, signature: str | None, form: Mapping[str, str]) -> bool:
        if self.auth_token is not None:
            return self.signed(url, signature, form)
        return _same(QueryParams(url.query).get(KEY_PARAMETER), self.key or "")
