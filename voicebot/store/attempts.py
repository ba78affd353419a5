"""Throttling of guesses: wrong passwords, failed identity checks. Counted per key in the database.

A key (`sign-in-user:ana`, `verify-order:104233`, ...) that fails `limit` times within
`window` is locked; each further failure once the lock is over locks it again for twice
as long, up to `max_lock`. A success clears the key. Callers `check` the keys before
they even test the guess, so a locked key gives nothing away, right or wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from voicebot.domain.errors import TooManyAttempts
from voicebot.store.models import FailedAttempts
from voicebot.store.session import Repository


@dataclass(frozen=True)
class AttemptRule:
    """How many failures `limit` within `window` lock a key, and for how long at first (`lock`) and at most."""

    limit: int
    window: timedelta
    lock: timedelta
    max_lock: timedelta


class AttemptLimiter(Repository):
    def check(self, *keys: str) -> None:
        """Raises `TooManyAttempts` if any of the keys is locked now."""
        now = self._clock()
        with self._transaction() as session:
            rows = session.scalars(select(FailedAttempts).where(FailedAttempts.key.in_(keys))).all()
        waits = [row.locked_until - now for row in rows if row.locked_until and row.locked_until > now]
        if waits:
            raise TooManyAttempts(max(waits))

    def failed(self, key: str, rule: AttemptRule) -> None:
        """Counts one failure under `key`; locks it once the rule's limit is reached."""
        now = self._clock()
        with self._transaction() as session:
            row = session.get(FailedAttempts, key, with_for_update=True)
            if row is None:
                row = FailedAttempts(key=key, failures=0, first_failed_at=now, locked_until=None)
                session.add(row)
            elif (row.locked_until or row.first_failed_at) < now - rule.window:
                row.failures, row.first_failed_at, row.locked_until = 0, now, None  # quiet for a window: start afresh
            row.failures += 1
            over = row.failures - rule.limit
            if over >= 0:
                row.locked_until = now + min(rule.lock * 2**min(over, 20), rule.max_lock)

    def succeeded(self, *keys: str) -> None:
        with self._transaction() as session:
            session.execute(delete(FailedAttempts).where(FailedAttempts.key.in_(keys)))
