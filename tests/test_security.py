"""The attacks of issue 13, replayed against the running bot (engine, Rasa, action server, Piper,
PostgreSQL): each one must now fail, and what it aimed at must be unchanged.

An attacker here is anyone who can reach the machine's ports or get a browser to open a page:
no service token, no session, or the session of an agent who is not a supervisor.
"""

from __future__ import annotations

import asyncio
import http.server
import shutil
import threading

import httpx
import pytest
import websockets

from tests.pg_server import free_port
from voicebot.credentials import RASA_TOKEN, carrier_key, deployment_secret, service_headers
from voicebot.desk.agents import AgentService
from voicebot.telephony.twilio.caller import fetch_call_record
from voicebot.store.session import make_engine, session_factory

pytestmark = pytest.mark.integration

PASSWORD = "a long agent password"


@pytest.fixture(scope="module")
def settings(stack):
    return stack.settings


@pytest.fixture(scope="module")
def api(settings):
    """The engine's API as its trusted clients (the Rasa actions, the CLI) use it."""
    with httpx.Client(base_url=settings.engine_url, headers=service_headers(settings), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def people(settings):
    """An agent and a supervisor of the desk, created in the bot's database."""
    engine = make_engine(settings.sqlalchemy_url)
    agents = AgentService(session_factory(engine))
    agents.create_agent("sec-agent", PASSWORD, "Ada Agent", "agent")
    agents.create_agent("sec-super", PASSWORD, "Sam Supervisor", "supervisor")
    agents.create_agent("sec-throttled", PASSWORD, "Tia Throttled", "agent")
    yield
    engine.dispose()


def bearer(settings, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{settings.engine_url}/api/v1/desk/session", json={"username": username, "password": PASSWORD, "bearer": True}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def cancellable_order(api: httpx.Client) -> str:
    """An order the policy would let anyone with access cancel now: what the attacks aim at."""
    for row in api.get("/api/v1/orders").json():
        if row["status"] in ("pending", "paid") and api.get(f"/api/v1/orders/{row['order_number']}").json()["policy"]["can_cancel"]:
            return row["order_number"]
    raise AssertionError("no cancellable order in the demo data")


def test_customer_data_routes_refuse_requests_without_credentials(settings, api) -> None:
    call_id = api.post("/api/v1/conversations", json={"channel": "text"}).json()["call_id"]
    number = cancellable_order(api)
    attacks = [
        ("GET", "/api/v1/orders", None),
        ("GET", f"/api/v1/orders/{number}", None),
        ("POST", f"/api/v1/orders/{number}/cancel", {}),
        ("POST", f"/api/v1/orders/{number}/verify", {"phone_last4": "0000"}),
        ("POST", f"/api/v1/orders/{number}/address", {"address": "1 Attacker Way, Springfield, IL 62704", "phone_last4": "0000"}),
        ("POST", f"/api/v1/orders/{number}/refunds", {"reason": "x"}),
        ("GET", f"/api/v1/calls/{call_id}", None),
        ("POST", f"/api/v1/calls/{call_id}/turns", {"caller_text": "injected"}),
        ("POST", f"/api/v1/calls/{call_id}/end", {"outcome": "resolved"}),
        ("POST", "/api/v1/handoffs", {"call_id": call_id, "reason": "x"}),
        ("POST", "/api/v1/conversations", {"channel": "text"}),
        ("POST", f"/api/v1/conversations/{call_id}/messages", {"text": "cancel my order"}),
        ("POST", "/api/v1/knowledge/answer", {"question": "returns"}),
        ("GET", "/api/v1/openapi.json", None),
    ]
    with httpx.Client(base_url=settings.engine_url, timeout=30) as anonymous:
        for method, path, body in attacks:
            for headers in ({}, {"Authorization": "Bearer not-the-token"}):
                response = anonymous.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (method, path, response.status_code)
                assert "customer" not in response.text and "injected" not in response.text
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert anonymous.get(path).status_code == 404, path
        health = anonymous.get("/health")
        assert health.status_code == 200 and deployment_secret(settings, RASA_TOKEN) not in health.text
    # Nothing the attacks aimed at changed.
    assert api.get(f"/api/v1/orders/{number}").json()["status"] in ("pending", "paid")
    record = api.get(f"/api/v1/calls/{call_id}").json()
    assert record["ended_at"] is None and not any(t["caller_text"] == "injected" for t in record["turns"])


def test_agents_use_the_desk_and_supervisors_may_use_the_api(settings, people) -> None:
    agent, supervisor = bearer(settings, "sec-agent"), bearer(settings, "sec-super")
    assert httpx.get(f"{settings.engine_url}/api/v1/orders", headers=agent).status_code == 403
    listed = httpx.get(f"{settings.engine_url}/api/v1/orders", headers=supervisor)
    assert listed.status_code == 200 and len(listed.json()) >= 20


def test_rasa_and_the_action_server_refuse_requests_without_their_tokens(settings) -> None:
    token = {"token": deployment_secret(settings, RASA_TOKEN)}
    with httpx.Client(base_url=settings.rasa_url, timeout=30) as rasa:
        assert rasa.delete("/model").status_code == 401  # it unloaded the model before
        assert rasa.put("/model", json={"model_file": "/tmp/evil.tar.gz"}).status_code == 401
        assert rasa.get("/conversations/any-call/tracker").status_code == 401
        assert rasa.get("/status").status_code == 401
        assert rasa.post("/webhooks/rest/webhook", json={"sender": "x", "message": "hi"}).status_code == 404  # no open channel
        channel = rasa.post("/webhooks/engine/webhook", json={"sender": "x", "message": "hi"}, headers={"Authorization": "Bearer wrong"})
        assert channel.status_code == 401
        assert rasa.get("/status", params=token).json()["model_file"]  # still serving its model
    with httpx.Client(base_url=settings.action_url, timeout=30) as actions:
        run = actions.post("/webhook", json={"next_action": "action_confirm_pending", "sender_id": "x", "tracker": {}, "domain": {}})
        assert run.status_code == 401
        assert actions.post("/webhook", params={"token": "wrong"}, json={}).status_code == 401
        assert actions.get("/health").json()["status"] == "ok"


def test_foreign_hosts_origins_and_form_bodies_are_refused(settings, api) -> None:
    number = cancellable_order(api)
    cancel = f"/api/v1/orders/{number}/cancel"
    rebinding = api.get("/api/v1/orders", headers={"Host": "attacker.example"})  # DNS rebinding names the attacker's host
    assert rebinding.status_code == 400 and rebinding.json()["error"] == "unknown_host"
    assert api.post(cancel, json={}, headers={"Origin": "http://attacker.example"}).status_code == 403
    assert api.post(cancel, json={}, headers={"Origin": f"http://127.0.0.1:{free_port()}"}).status_code == 403  # same site, other origin
    form = api.post(cancel, content=b"call_id=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert api.post(cancel, content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert api.get(f"/api/v1/orders/{number}").json()["status"] in ("pending", "paid")

    async def upgrade(path: str) -> None:
        url = settings.engine_url.replace("http", "ws", 1) + path
        async with websockets.connect(url, origin="http://attacker.example"):
            pass

    for path in ("/api/v1/desk/events", "/telephony/twilio"):
        with pytest.raises(websockets.exceptions.InvalidStatus):
            asyncio.run(upgrade(path))


def test_every_answer_carries_the_security_headers(settings, api) -> None:
    for response in (httpx.get(f"{settings.engine_url}/desk/login"), api.get("/api/v1/orders"), httpx.get(f"{settings.engine_url}/health")):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src" not in response.headers["content-security-policy"]  # default-src 'self': no inline script
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in httpx.get(f"{settings.engine_url}/desk/static/desk.js").headers.get("cache-control", "")


def test_wrong_passwords_lock_the_sign_in_even_for_the_right_one(settings, people) -> None:
    url = f"{settings.engine_url}/api/v1/desk/session"
    for _ in range(5):
        assert httpx.post(url, json={"username": "sec-throttled", "password": "guess guess guess"}).status_code == 401
    locked = httpx.post(url, json={"username": "sec-throttled", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 25
    assert "voicebot_session" not in locked.cookies
    assert httpx.post(url, json={"username": "sec-agent", "password": PASSWORD}).status_code == 200  # others sign in


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(settings, people) -> None:
    url = f"{settings.engine_url}/api/v1/desk/session"
    body = {"username": "sec-agent", "password": PASSWORD}
    proxied = httpx.post(url, json=body, headers={"X-Forwarded-Proto": "https"})  # from 127.0.0.1: a trusted proxy
    assert proxied.status_code == 200 and "secure" in proxied.headers["set-cookie"].lower()
    direct = httpx.post(url, json=body)
    assert "secure" not in direct.headers["set-cookie"].lower() and "httponly" in direct.headers["set-cookie"].lower()


def test_identity_guesses_within_one_call_are_locked(api) -> None:
    number = cancellable_order(api)
    call_id = api.post("/api/v1/calls", json={"channel": "phone"}).json()["id"]
    for guess in ("1111", "2222", "3333"):
        checked = api.post(f"/api/v1/orders/{number}/verify", json={"phone_last4": guess, "call_id": call_id})
        assert checked.status_code == 200 and checked.json() == {"order_number": number, "verified": False}
    locked = api.post(f"/api/v1/orders/{number}/verify", json={"phone_last4": "4444", "call_id": call_id})
    assert locked.status_code == 429 and locked.json()["error"] == "too_many_attempts" and locked.headers["retry-after"]
    changed = api.post(
        f"/api/v1/orders/{number}/address", json={"address": "1 Attacker Way, Springfield, IL 62704", "phone_last4": "5555", "call_id": call_id}
    )
    assert changed.status_code == 429
    assert "Attacker" not in api.get(f"/api/v1/orders/{number}").text


class AttackerPage(http.server.BaseHTTPRequestHandler):
    """Another site's page (127.0.0.1 on another port: same site, other origin) that tries to cancel an order."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        script = f"""
          const target = {self.target!r};
          const attempts = [
            fetch(target, {{method: "POST", mode: "no-cors", credentials: "include"}}),
            fetch(target, {{method: "POST", mode: "no-cors", credentials: "include", body: "{{}}"}}),
            fetch(target, {{method: "POST", mode: "no-cors", credentials: "include",
                           headers: {{"Content-Type": "application/x-www-form-urlencoded"}}, body: "call_id=x"}}),
            fetch(target, {{method: "POST", mode: "cors", credentials: "include",
                           headers: {{"Content-Type": "application/json"}}, body: "{{}}"}}),
          ];
          Promise.allSettled(attempts).then(() => {{ document.title = "sent"; }});
        """
        page = f"<!doctype html><html><head><title>attacker</title></head><body><script>{script}</script></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(page.encode())

    def log_message(self, *args) -> None:
        pass


def test_a_page_on_another_origin_cannot_act_with_a_signed_in_supervisors_browser(settings, api, people) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    number = cancellable_order(api)
    AttackerPage.target = f"{settings.engine_url}/api/v1/orders/{number}/cancel"
    attacker = http.server.HTTPServer(("127.0.0.1", 0), AttackerPage)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{settings.engine_url}/desk/login")
            page.fill("#username", "sec-super")
            page.fill("#password", PASSWORD)
            page.click("#sign-in-button")
            page.wait_for_url(f"{settings.engine_url}/desk")
            # The cookie is there and would go with same-site requests: 127.0.0.1 is one site, whatever the port.
            assert any(c["name"] == "voicebot_session" for c in context.cookies())
            assert page.evaluate("fetch('/api/v1/orders').then(r => r.status)") == 200  # the supervisor's own page may
            page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
            page.wait_for_function("document.title === 'sent'", timeout=15000)
            browser.close()
    finally:
        attacker.shutdown()
    assert api.get(f"/api/v1/orders/{number}").json()["status"] in ("pending", "paid")


def test_with_the_engine_on_every_interface_the_internal_services_stay_on_loopback(tmp_path) -> None:
    """VOICEBOT_HOST=0.0.0.0 (and an internal port) inside a network namespace of the test's own (loopback only,
    nothing else reachable)."""
    import json
    import subprocess
    import sys

    from voicebot.settings import PROJECT_ROOT

    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("unshare (util-linux) and ip (iproute2) are needed for the namespace test")
    probe = f"ip link set lo up && exec {sys.executable} -m tests.bind_probe {tmp_path}"
    result = subprocess.run(["unshare", "-n", "sh", "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    bound = {port: address for address, port in report["listening"]}
    ports = report["ports"]
    assert bound[ports["engine"]] == "0.0.0.0"
    for internal in ("internal", "rasa", "action_server", "tts"):
        assert bound[ports[internal]] == "127.0.0.1", (internal, bound)
    # VOICEBOT_INTERNAL_PORT: the data API is only on the loopback port, the public one has health and the rest.
    assert report["answers"] == {"public_orders": 404, "public_health": 200, "internal_orders": 200}


def test_fifty_callers_at_once_are_refused_busy_over_the_limit_while_a_real_call_is_answered(settings, say) -> None:
    """A bounded flood (50 fake callers, one burst) against VOICEBOT_MAX_CALLS (8)."""
    from eval.flood import flood_with_real_call, latencies

    url = f"ws://{settings.host}:{settings.port}/telephony/twilio"
    flood, real = asyncio.run(
        flood_with_real_call(url, carrier_key(settings), [say("Where is my order?")], fake_calls=50, hold_s=4.0)
    )
    assert flood.other == []  # every fake caller was either admitted or refused with a close frame
    assert flood.admitted <= settings.max_calls - 1  # the real call holds one place
    assert flood.refused >= 50 - (settings.max_calls - 1)
    assert flood.reasons == {"busy"}
    assert max(flood.refusal_ms) < 5000  # refused at once, not after a degraded call
    assert len(latencies(real)) == 1
    record = asyncio.run(fetch_call_record(settings.engine_url, real.call_id, service_headers(settings)))
    assert "order number" in record["turns"][-1]["bot_text"]


def test_odd_input_gets_a_clear_error_not_a_crash(settings, api, people) -> None:
    call_id = api.post("/api/v1/conversations", json={"channel": "text"}).json()["call_id"]
    surrogate = api.post(
        f"/api/v1/conversations/{call_id}/messages", content=b'{"text": "hello \\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert surrogate.status_code == 422 and surrogate.json()["error"] == "invalid_text"
    huge = api.post("/api/v1/handoffs", json={"call_id": call_id, "reason": "x", "collected": {"notes": "a" * 200_000}})
    assert huge.status_code == 413
    supervisor = bearer(settings, "sec-super")
    too_big_id = httpx.post(f"{settings.engine_url}/api/v1/desk/handoffs/{2**63}/accept", headers=supervisor)
    assert too_big_id.status_code == 422
    assert api.get("/api/v1/calls/x%2F..%2F..%2Fstatus").status_code in (404, 422)  # an id is never a path
    assert httpx.get(f"{settings.engine_url}/health").status_code == 200  # still serving


def test_a_card_number_said_is_kept_nowhere_and_echoed_nowhere(settings, api) -> None:
    call_id = api.post("/api/v1/conversations", json={"channel": "text"}).json()["call_id"]
    said = "I want a refund, my card number is 4 111 111 111 111 111 and the security code is one two three"
    echoed = api.post(f"/api/v1/conversations/{call_id}/messages", json={"text": said})
    assert echoed.status_code == 200 and "111 111" not in echoed.text and "[card number]" in echoed.json()["caller_text"]
    record = api.get(f"/api/v1/calls/{call_id}").text
    tracker = httpx.get(
        f"{settings.rasa_url}/conversations/{call_id}/tracker", params={"token": deployment_secret(settings, RASA_TOKEN)}
    )
    assert tracker.status_code == 200 and "[card number]" in tracker.text  # Rasa keeps the conversation redacted
    for kept in (record, tracker.text):
        assert "111 111" not in kept and "4111111" not in kept and "one two three" not in kept
        assert '"value":"123"' not in kept.replace(" ", "")  # the security code, read as an entity, is hidden too
