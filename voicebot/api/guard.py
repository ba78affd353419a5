"""Checks every request and response of the engine passes, whatever the route (an ASGI middleware).

- **Host**: only the names the engine is reached by (`Settings.allowed_hosts`): a DNS-rebinding
  page, whose requests name the attacker's host, gets 400.
- **Origin**: a request a browser sends from another site's page (its `Origin` is not this
  host) gets 403, WebSocket upgrades included: no cross-site request forgery, no foreign
  page on the event stream. Clients that are not browsers send no Origin.
- **JSON only**: a state change (POST, PUT, PATCH, DELETE) with a body must be
  `application/json` (415 otherwise): HTML forms and `no-cors` fetches cannot send it. The
  carrier's endpoints (`/telephony/`) are exempt: Twilio posts forms to its TwiML URLs.
- **Size and text**: a body over 64 KiB gets 413 (the largest real one, a wrap-up note, is
  5,000 characters), and JSON whose strings are not valid Unicode (a lone surrogate such as
  `"\\ud800"`, which no database or reply can encode) gets 422.
- **Internal routes** (with `Settings.internal_port`): the data API answers only on the
  internal port, bound to loopback; on the public port it is not there (404).
- **Headers** on every answer: a content security policy that allows this origin's own
  files only, no framing, no MIME sniffing, no referrer, and no caching of anything but the
  desk's static files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_BODY_BYTES = 64 * 1024
CARRIER_PREFIX = "/telephony/"
STATIC_PREFIX = "/desk/static/"
INTERNAL_PREFIX, PUBLIC_UNDER_INTERNAL = "/api/v1/", "/api/v1/desk/"  # the data API; the desk's API is public
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, as its answer says: HTTP status (or close code 4000 + status), error code, message."""

    status: int
    code: str
    message: str


def host_name(host: str) -> str:
    """The name in a Host header or URL netloc, without the port ('[::1]:8080' -> '::1')."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class RequestGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str], internal_port: int | None = None) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.internal_port = internal_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4000 + refusal.status, "reason": refusal.message})
            else:
                await _send_refusal(send, refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if scope["method"] in UNSAFE_METHODS:
            body = await _read_body(receive)
            refusal = _body_refusal(body, Headers(scope=scope))
            if refusal is not None:
                await _send_refusal(send, refusal)
                return
            receive = _replay(body, receive)
        static = scope["path"].startswith(STATIC_PREFIX)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

    def refusal(self, scope: Scope) -> Refusal | None:
        """Why the request's head is refused, or None."""
        headers = Headers(scope=scope)
        path = scope["path"]
        if self.internal_port is not None and path.startswith(INTERNAL_PREFIX) and not path.startswith(PUBLIC_UNDER_INTERNAL):
            if (scope.get("server") or (None, None))[1] != self.internal_port:
                return Refusal(404, "not_found", "Not Found")
        host = headers.get("host", "")
        if host_name(host) not in self.allowed_hosts:
            return Refusal(400, "unknown_host", "This server does not answer to that host name.")
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.strip().lower():
            return Refusal(403, "cross_origin", "Requests from other sites' pages are refused.")
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS and not scope["path"].startswith(CARRIER_PREFIX):
            content_type = headers.get("content-type")
            has_body = content_type is not None or headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            if has_body and not _is_json(headers):
                return Refusal(415, "json_only", "Send the body as application/json.")
        return None


def _is_json(headers: Headers) -> bool:
    return (headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json"


async def _read_body(receive: Receive) -> bytes | None:
    """The request's whole body, or None when it is over MAX_BODY_BYTES (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _body_refusal(body: bytes | None, headers: Headers) -> Refusal | None:
    if body is None:
        return Refusal(413, "too_large", f"The body is over {MAX_BODY_BYTES // 1024} KiB.")
    if not body or not _is_json(headers):
        return None
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        return Refusal(422, "invalid_text", "The text is not valid Unicode (an unpaired surrogate).")
    except ValueError:
        return None  # not JSON at all: the route's own validation says so
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the client's own messages (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _send_refusal(send: Send, refusal: Refusal) -> None:
    payload = json.dumps({"error": refusal.code, "message": refusal.message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": refusal.status, "headers": [*headers, (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": payload})
