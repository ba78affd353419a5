"""The engine's event stream: what the agent desktop (or a CRM) is told, as it happens.

Every event is one JSON object `{"v": 1, "type": ..., "at": ..., "data": {...}}`; the
types and their fields are documented in docs/events.md. Publishing is safe from any
thread (services run in FastAPI's thread pool); each subscriber has a bounded queue,
and a subscriber too slow to keep up loses its oldest events rather than holding up calls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

EVENTS_VERSION = 1
SUBSCRIBER_BUFFER = 500

Publish = Callable[[str, dict[str, Any]], None]  # EventBus.publish: event type, data


def event(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"v": EVENTS_VERSION, "type": type_, "at": datetime.now(UTC).isoformat(), "data": data}


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[asyncio.Queue, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(SUBSCRIBER_BUFFER)
        with self._lock:
            self._subscribers[queue] = asyncio.get_running_loop()
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers.pop(queue, None)

    def publish(self, type_: str, data: dict[str, Any]) -> None:
        message = event(type_, data)
        with self._lock:
            subscribers = list(self._subscribers.items())
        for queue, loop in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, message)
            except RuntimeError:  # that subscriber's loop is closed
                self.unsubscribe(queue)


def _offer(queue: asyncio.Queue, message: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()
        logger.warning("Event subscriber too slow: dropped its oldest event")
    queue.put_nowait(message)
