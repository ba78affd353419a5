"""Crash safety: children die with the engine, taken ports are named, calls a crash left open are closed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.pg_server import free_port
from voicebot.credentials import service_headers
from voicebot.runtime.ports import busy_ports
from voicebot.runtime.stack import EngineStack
from voicebot.settings import PROJECT_ROOT, Settings
from voicebot.store import make_engine, session_factory
from voicebot.store.repositories import Store


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts: it holds no port and runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_child_dies_when_its_engine_is_killed(tmp_path: Path) -> None:
    engine = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from voicebot.runtime.supervisor import ChildProcess
        child = ChildProcess(
            name="sleeper", label="sleeper", command=lambda: [sys.executable, "-c", "import time; time.sleep(120)"],
            cwd=lambda: Path("{tmp_path}"), env=lambda: {{}}, log_path=Path("{tmp_path}") / "sleeper.log",
            health_url="http://127.0.0.1:9/",
        )
        child.start()
        print(child.process.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", engine], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert wait_until(lambda: "time.sleep(120)" in Path(f"/proc/{child_pid}/cmdline").read_text(), 10)  # exec'd
        assert not gone(child_pid)
        parent.send_signal(signal.SIGKILL)  # no cleanup code runs: only the kernel can stop the child now
        parent.wait()
        assert wait_until(lambda: gone(child_pid), 10), "the child outlived its engine"
    finally:
        parent.kill()


def test_a_taken_port_is_named_with_its_holder() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        [problem] = busy_ports({"Rasa": ("127.0.0.1", port), "Piper TTS": ("127.0.0.1", free_port())})
    assert problem.startswith(f"port {port} (Rasa) is in use by pid {os.getpid()} (")
    assert "pytest" in problem or "python" in problem


def test_the_stack_refuses_to_start_on_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        settings = Settings(data_dir=tmp_path, port=free_port(), rasa_port=holder.getsockname()[1], action_port=free_port(), tts_port=free_port())
        with pytest.raises(SystemExit) as refused:
            EngineStack(settings).start(train_first=False)
    assert f"port {settings.rasa_port} (Rasa) is in use by pid {os.getpid()}" in str(refused.value)


def test_open_calls_are_closed_and_idle_text_conversations_expire(db_url: str) -> None:
    now = [datetime(2026, 12, 8, 12, 0, tzinfo=UTC)]
    store = Store.open(session_factory(make_engine(db_url)), clock=lambda: now[0])
    calls = store.calls
    phone = calls.start_call(channel="phone").id
    quiet = calls.start_call(channel="text").id
    talking = calls.start_call(channel="text").id
    done = calls.start_call(channel="text").id
    calls.end_call(done, "resolved")
    now[0] += timedelta(minutes=20)
    calls.add_turn(talking, "where is my order", None, None, "What is the order number?")
    now[0] += timedelta(minutes=15)
    idle = calls.close_open_calls("abandoned", channel="text", idle_since=now[0] - timedelta(minutes=30))
    assert idle == [quiet]  # 35 minutes without a word; the other spoke 15 minutes ago, the phone call has a line
    assert calls.get_call(quiet).outcome == "abandoned"
    assert sorted(calls.close_open_calls("failed")) == sorted([phone, talking])
    assert calls.get_call(done).outcome == "resolved"  # an ended call keeps its outcome


@pytest.mark.integration
def test_after_the_engine_is_killed_the_next_serve_starts_cleanly_and_closes_the_interrupted_call(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", port=free_port(), rasa_port=free_port(), action_port=free_port(), tts_port=free_port())
    env = {
        **os.environ, "VOICEBOT_DATA_DIR": str(settings.data_dir), "VOICEBOT_PORT": str(settings.port),
        "VOICEBOT_RASA_PORT": str(settings.rasa_port), "VOICEBOT_ACTION_PORT": str(settings.action_port),
        "VOICEBOT_TTS_PORT": str(settings.tts_port),
    }
    env.pop("DATABASE_URL", None)
    ports = [settings.port, settings.rasa_port, settings.action_port, settings.tts_port]

    def serve() -> subprocess.Popen:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("voicebot")), "serve", "--no-train"], cwd=PROJECT_ROOT, env=env,
            stdout=open(tmp_path / "serve.log", "a"), stderr=subprocess.STDOUT,
        )
        ready = wait_until(lambda: healthy(settings), 300)
        assert ready, (tmp_path / "serve.log").read_text()[-3000:]
        return process

    first = serve()
    try:
        with httpx.Client(base_url=settings.engine_url, headers=service_headers(settings), timeout=30) as api:
            call_id = api.post("/api/v1/conversations", json={"channel": "text"}).json()["call_id"]
            api.post(f"/api/v1/conversations/{call_id}/messages", json={"text": "where is my order 104233"})
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert wait_until(lambda: not busy_ports({str(p): ("127.0.0.1", p) for p in ports}), 20), busy_ports(
            {str(p): ("127.0.0.1", p) for p in ports}
        )
    finally:
        first.kill()
    second = serve()
    try:
        record = httpx.get(f"{settings.engine_url}/api/v1/calls/{call_id}", headers=service_headers(settings)).json()
        assert record["outcome"] == "failed" and record["ended_at"]
        assert "Ready" in (tmp_path / "serve.log").read_text()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert wait_until(lambda: not busy_ports({str(p): ("127.0.0.1", p) for p in ports}), 20)


def healthy(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.engine_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_child_alive_but_no_longer_serving_is_restarted(tmp_path: Path) -> None:
    """Like Rasa with its model unloaded: the process runs, its health check fails."""
    from voicebot.runtime.supervisor import ChildProcess, wait_ready

    port = free_port()
    server = textwrap.dedent(f"""
        import http.server, json
        answered = 0
        class Health(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                global answered
                answered += 1
                ok = answered <= 2  # serves twice, then stops serving
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(json.dumps({{"status": "ok" if ok else "no model"}}).encode())
            def log_message(self, *args):
                pass
        http.server.HTTPServer(("127.0.0.1", {port}), Health).serve_forever()
    """)
    child = ChildProcess(
        name="stuck", label="stuck server", command=lambda: [sys.executable, "-c", server], cwd=lambda: tmp_path,
        env=lambda: dict(os.environ), log_path=tmp_path / "stuck.log", health_url=f"http://127.0.0.1:{port}/",
        is_ready=lambda body: body.get("status") == "ok",
    )
    child.start()
    try:
        wait_ready([child], 20, RuntimeError, echo=lambda _: None)  # answer 1
        first = child.process.pid
        verdicts = [child.restart_if_stuck() for _ in range(5)]  # answer 2 fine, then three failures
        assert verdicts == [False, False, False, True, False], verdicts
        assert child.process.pid != first and gone(first)
        assert wait_until(child.healthy, 20)  # the new process serves
    finally:
        child.stop()
