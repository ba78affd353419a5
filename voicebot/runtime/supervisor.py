"""Child processes the engine starts and keeps alive: Rasa, its action server, Piper.

Each runs from its own virtual environment (their dependencies clash with the
engine's, and Piper is GPL-3.0), logs to `<data_dir>/logs/<name>.log`, answers an
HTTP health check, is restarted by `voicebot serve` if it dies, and is stopped with
its whole process group so nothing it spawned is left behind; if the engine itself dies,
the kernel stops it (`die_with_parent.py`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DIE_WITH_PARENT = Path(__file__).with_name("die_with_parent.py")  # children end with the engine, even a killed one


@dataclass
class ChildProcess:
    """One supervised child; `command` is built at each start, so it can change (a new model)."""

    name: str
    label: str  # how progress lines call it, e.g. "Rasa server"
    command: Callable[[], list[str]]
    cwd: Callable[[], Path]
    env: Callable[[], dict[str, str]]
    log_path: Path
    health_url: str
    is_ready: Callable[[dict], bool] = lambda body: True
    health_params: dict[str, str] = field(default_factory=dict)  # e.g. the child's API token, kept out of the printed URL
    process: subprocess.Popen | None = None
    served: bool = False  # answered its health check since it last started
    failed_checks: int = 0  # health checks failed in a row since then

    def start(self) -> None:
        self.served, self.failed_checks = False, 0
        command, cwd, env = self.command(), self.cwd(), self.env()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(DIE_WITH_PARENT), str(os.getpid()), *command],
                cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def dead(self) -> bool:
        """True if it was started and has exited since."""
        return self.process is not None and self.process.poll() is not None

    def restart_if_dead(self) -> bool:
        """Brings a crashed child back; True if it had to."""
        if not self.dead():
            return False
        self.start()
        return True

    def restart_if_stuck(self, checks: int = 3) -> bool:
        """Restarts a child that served once since it started but failed its last `checks` health checks
        while still running (Rasa with its model unloaded, a hung server); True if it had to."""
        if self.process is None or self.dead():
            return False
        if self.healthy():
            self.served, self.failed_checks = True, 0
            return False
        self.failed_checks += 1
        if not self.served or self.failed_checks < checks:
            return False  # still starting up (loading a model takes a while), or one slow answer
        self.stop()
        self.start()
        return True

    def healthy(self) -> bool:
        try:
            response = httpx.get(self.health_url, params=self.health_params, timeout=2.0)
            return response.status_code == 200 and self.is_ready(response.json())
        except (httpx.HTTPError, ValueError):
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=5)


def wait_ready(
    children: Iterable[ChildProcess],
    timeout_s: float,
    error: type[Exception],
    echo: Callable[[str], None] = print,
    slow_note: str = "",
) -> None:
    """Waits until every child answers its health check; `error` if one exits or time runs out."""
    pending = list(children)
    deadline = time.monotonic() + timeout_s
    last_note = time.monotonic()
    while pending:
        for child in list(pending):
            if child.process is None or child.dead():
                code = None if child.process is None else child.process.returncode
                raise error(f"the {child.label} exited during start-up (code {code}); see {child.log_path}")
            if child.healthy():
                echo(f"  {child.label} ready ({child.health_url})")
                pending.remove(child)
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(c.label for c in pending)
            raise error(f"timed out after {timeout_s:.0f} s waiting for {names}; see {pending[0].log_path.parent}")
        if time.monotonic() - last_note > 10:
            echo(f"  waiting for {', '.join(c.label for c in pending)}{slow_note} ...")
            last_note = time.monotonic()
        time.sleep(0.2)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
