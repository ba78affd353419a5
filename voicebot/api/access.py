"""Who may use the engine's data API (orders, calls, handoffs, knowledge, text conversations).

A trusted service — the Rasa actions, the CLI, a CRM's back end — sends the deployment's
service token (`voicebot.credentials`) as `Authorization: Bearer ...`; a person uses a
signed-in supervisor session (cookie or bearer token) of the agent desk. Everyone else
gets 401, agents 403: they reach customers' data through the desk, for their own calls.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request

from voicebot.desk.routes import session_token


@dataclass(frozen=True)
class ApiClient:
    """The caller of a data route: the service, or the supervisor signed in."""

    kind: str  # "service" or "supervisor"
    name: str


SERVICE = ApiClient("service", "service token")


def api_client(request: Request) -> ApiClient:
    """The route dependency: the client behind the request, or 401/403."""
    token = session_token(request)
    if token and hmac.compare_digest(token.encode(), request.app.state.service_token.encode()):
        return SERVICE
    agent = request.app.state.agents.authenticate(token)
    if agent is None:
        raise HTTPException(401, detail={"error": "unauthorized", "message": "Send the service token or sign in as a supervisor."})
    if not agent.is_supervisor:
        raise HTTPException(403, detail={"error": "forbidden", "message": "Agents reach calls through the desk; this API is for supervisors."})
    return ApiClient("supervisor", agent.username)
