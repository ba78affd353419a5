"""Agent accounts and signed-in sessions.

Passwords are stored as scrypt hashes with a per-password salt (standard library, no
extra dependency); a session is a random token whose SHA-256 is stored, so a database
leak does not hand out live sessions. Sessions expire after a fixed time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.domain.errors import InvalidInput, NotAllowed
from voicebot.domain.types import AgentRole, utc_now
from voicebot.store.attempts import AttemptLimiter, AttemptRule
from voicebot.store.models import Agent, AgentSession
from voicebot.store.session import transaction

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The agent behind a valid session."""

    agent_id: int
    username: str
    display_name: str
    role: str
    queues: tuple[str, ...]  # empty: every queue

    @property
    def is_supervisor(self) -> bool:
        return self.role == AgentRole.SUPERVISOR

    def serves(self, queue: str) -> bool:
        return not self.queues or queue in self.queues

    def as_dict(self) -> dict:
        return {"id": self.agent_id, "username": self.username, "display_name": self.display_name, "role": self.role, "queues": list(self.queues)}


def _signed_in(agent: Agent) -> SignedIn:
    return SignedIn(agent.id, agent.username, agent.display_name, str(agent.role), tuple((agent.queues or {}).get("names", [])))


def sign_in_rules(attempts: int) -> tuple[AttemptRule, AttemptRule]:
    """Per username and per client address (four times as many: colleagues behind one office NAT):
    locked for 30 s, doubling with each further wrong password up to 15 minutes."""
    window, first, longest = timedelta(minutes=15), timedelta(seconds=30), timedelta(minutes=15)
    return AttemptRule(attempts, window, first, longest), AttemptRule(4 * attempts, window, first, longest)


class AgentService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        session_hours: float = 8.0,
        clock: Callable[[], datetime] = utc_now,
        sign_in_attempts: int = 5,
    ) -> None:
        self._sessions = sessions
        self.session_lifetime = timedelta(hours=session_hours)
        self._clock = clock
        self._attempts = AttemptLimiter(sessions, clock=clock)
        self._user_rule, self._client_rule = sign_in_rules(sign_in_attempts)

    def _transaction(self) -> AbstractContextManager[Session]:
        return transaction(self._sessions)

    def create_agent(
        self, username: str, password: str, display_name: str, role: str = "agent", queues: list[str] | None = None
    ) -> SignedIn:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("A username is 2-60 lower-case letters, digits, dots, dashes or underscores.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
        try:
            role_value = AgentRole(role)
        except ValueError:
            raise InvalidInput(f"Unknown role {role!r}: use agent or supervisor.") from None
        with self._transaction() as session:
            if session.scalars(select(Agent).where(Agent.username == username)).first():
                raise NotAllowed("username_taken", f"There is already an agent called {username!r}.")
            agent = Agent(
                username=username,
                display_name=display_name.strip() or username,
                password_hash=hash_password(password),
                role=role_value,
                queues={"names": sorted(set(queues or []))},
                active=True,
                created_at=self._clock(),
            )
            session.add(agent)
            session.flush()
            return _signed_in(agent)

    def sign_in(self, username: str, password: str, client: str = "unknown") -> tuple[str, SignedIn] | None:
        """A new session token for the right password; None otherwise (same answer for unknown users).

        Raises `TooManyAttempts` while the username or the client address (`client`) is locked
        after wrong passwords: the password is not even tested then.
        """
        username = username.strip().lower()
        user_key, client_key = f"sign-in-user:{username[:60]}", f"sign-in-client:{client[:60]}"
        self._attempts.check(user_key, client_key)
        result = self._check_password(username, password)
        if result is None:
            self._attempts.failed(user_key, self._user_rule)
            self._attempts.failed(client_key, self._client_rule)
        else:
            self._attempts.succeeded(user_key)
        return result

    def _check_password(self, username: str, password: str) -> tuple[str, SignedIn] | None:
        with self._transaction() as session:
            agent = session.scalars(select(Agent).where(Agent.username == username)).first()
            if agent is None or not agent.active:
                verify_password(password, hash_password("timing-equaliser"))  # same work either way
                return None
            if not verify_password(password, agent.password_hash):
                return None
            token = secrets.token_urlsafe(32)
            now = self._clock()
            session.add(AgentSession(token_hash=_token_hash(token), agent_id=agent.id, created_at=now, expires_at=now + self.session_lifetime))
            session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id, AgentSession.expires_at < now))
            return token, _signed_in(agent)

    def authenticate(self, token: str | None) -> SignedIn | None:
        if not token:
            return None
        with self._transaction() as session:
            row = session.scalars(select(AgentSession).where(AgentSession.token_hash == _token_hash(token))).first()
            if row is None or row.expires_at <= self._clock():
                return None
            agent = session.get(Agent, row.agent_id)
            return _signed_in(agent) if agent and agent.active else None

    def sign_out(self, token: str) -> None:
        with self._transaction() as session:
            session.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))
