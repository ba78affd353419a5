"""Shared checks for the order service, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

from voicebot.domain.errors import NotAllowed
from voicebot.store.repositories import Store


def assert_one_of_parallel_cancellations_wins(service: Store, number: str, callers: int = 8) -> None:
    """Parallel cancellations of one order: exactly one succeeds and exactly one refund is made."""
    outcomes: list[str] = []

    def cancel() -> None:
        try:
            service.orders.cancel_order(number)
            outcomes.append("ok")
        except NotAllowed as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=cancel) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_cancelled"] * (callers - 1) + ["ok"]
    assert len(service.orders.refund_status(number)) == 1
