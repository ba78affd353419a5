"""A phone caller on hold is joined by an agent's audio through the engine.

Real stack (VAD, Whisper, Rasa, Piper, PostgreSQL): a Twilio-format caller asks for a
person and holds; an agent accepts in the desk API and opens the audio WebSocket as the
browser does, sends a tone for "their voice" and hears the caller's line. The caller's
recording must contain the tone; the agent leaving ends the call.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import wave

import httpx
import numpy as np
import pytest
import soundfile
import websockets
from playwright.sync_api import expect, sync_playwright

from voicebot.credentials import carrier_key, service_headers
from voicebot.desk.agents import AgentService
from voicebot.store.session import make_engine, session_factory
from voicebot.telephony.twilio.caller import place_call

pytestmark = pytest.mark.integration

PASSWORD = "agent audio password"
TONE_HZ = 1000.0


def tone(seconds: float, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * 32767 * np.sin(2 * np.pi * TONE_HZ * t)).astype("<i2").tobytes()


def tone_share(pcm: np.ndarray, rate: int) -> float:
    """Largest share of a 0.25 s window's energy that lies within 50 Hz of the tone."""
    window, best = int(0.25 * rate), 0.0
    for start in range(0, len(pcm) - window, window // 2):
        spectrum = np.abs(np.fft.rfft(pcm[start : start + window].astype(np.float64))) ** 2
        freqs = np.fft.rfftfreq(window, 1 / rate)
        total = spectrum.sum()
        if total > 1e6:
            best = max(best, spectrum[np.abs(freqs - TONE_HZ) < 50].sum() / total)
    return best


def add_agent(settings, username: str) -> None:
    """An agent for every queue, straight in the stack's database."""
    engine = make_engine(settings.sqlalchemy_url)
    AgentService(session_factory(engine)).create_agent(username, PASSWORD, username.title(), "agent")
    engine.dispose()


def test_agent_audio_reaches_the_caller_and_the_caller_reaches_the_agent(stack, say, tmp_path) -> None:
    settings = stack.settings
    add_agent(settings, "vic")
    out_wav = tmp_path / "caller-heard.wav"

    async def agent() -> dict:
        async with httpx.AsyncClient(base_url=settings.engine_url, timeout=10) as desk:
            signed = await desk.post("/api/v1/desk/session", json={"username": "vic", "password": PASSWORD, "bearer": True})
            token = signed.json()["token"]
            desk.headers["Authorization"] = f"Bearer {token}"
            deadline = time.monotonic() + 60
            handoff = None
            while handoff is None and time.monotonic() < deadline:
                waiting = (await desk.get("/api/v1/desk/queues")).json()["waiting"]
                handoff = next((w for w in waiting if w["summary_json"]["caller"]["phone"] == "•••0199"), None)  # masked in queues
                await asyncio.sleep(0.5)
            assert handoff, "the call never reached a queue"
            assert (await desk.post(f"/api/v1/desk/handoffs/{handoff['handoff_id']}/accept")).status_code == 200
            context = (await desk.get(f"/api/v1/desk/handoffs/{handoff['handoff_id']}/context")).json()
            assert context["audio_path"] == f"/api/v1/desk/handoffs/{handoff['handoff_id']}/audio"
        url = f"ws://{settings.host}:{settings.port}{context['audio_path']}"
        heard = 0
        async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as audio:
            voice = tone(2.0)
            for start in range(0, len(voice), 640):  # 20 ms frames in real time, as a microphone would
                await audio.send(voice[start : start + 640])
                await asyncio.sleep(0.02)
                while True:
                    try:
                        heard += len(await asyncio.wait_for(audio.recv(), 0.001))
                    except (TimeoutError, asyncio.TimeoutError):
                        break
        return {"handoff_id": handoff["handoff_id"], "heard_bytes": heard}

    async def scenario():
        caller = asyncio.create_task(
            place_call(
                f"ws://{settings.host}:{settings.port}/telephony/twilio",
                [say("I would like to speak to a person, please.")],
                caller="+15125550199",
                out_wav=out_wav,
                stay_on_line_s=40,
                key=carrier_key(settings),
            )
        )
        joined = await agent()
        return joined, await caller

    joined, result = asyncio.run(scenario())
    assert result.closed_by == "server"  # the agent hung up, so the engine ended the call
    assert joined["heard_bytes"] > 16000  # over half a second of the caller's line reached the agent
    pcm, rate = soundfile.read(out_wav, dtype="int16")
    assert tone_share(pcm, rate) > 0.8, "the agent's voice (a pure tone) is not in what the caller heard"
    record = httpx.get(f"{settings.engine_url}/api/v1/calls/{result.call_id}", headers=service_headers(settings)).json()
    assert record["outcome"] == "handed_off"


def test_agent_talks_to_the_caller_from_the_desktop_page(stack, say, tmp_path) -> None:
    """The same through the agent desktop in Chromium, its microphone fed a tone from a file."""
    settings = stack.settings
    add_agent(settings, "wes")
    microphone = tmp_path / "microphone.wav"
    with wave.open(str(microphone), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(tone(6.0))
    out_wav = tmp_path / "caller-heard.wav"
    outcome: dict = {}

    def caller() -> None:
        outcome["result"] = asyncio.run(
            place_call(
                f"ws://{settings.host}:{settings.port}/telephony/twilio",
                [say("Can I talk to a real person please?")],
                caller="+15125550177",
                out_wav=out_wav,
                stay_on_line_s=60,
                key=carrier_key(settings),
            )
        )

    line = threading.Thread(target=caller)
    line.start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        page = browser.new_page()
        try:
            page.goto(f"{settings.engine_url}/desk/login")
            page.fill("#username", "wes")
            page.fill("#password", PASSWORD)
            page.click("#sign-in-button")
            waiting = page.locator("#waiting li", has_text="•••0177")  # the queue shows callers' numbers masked
            expect(waiting).to_have_count(1, timeout=60_000)
            waiting.click()
            page.click("#accept")
            status = page.locator("#audio-status")
            expect(status).to_have_text("Talking with the caller.", timeout=10_000)
            # Polled from here: the page's content security policy lets no test script be evaluated in it.
            deadline = time.monotonic() + 15
            while int(status.get_attribute("data-bytes") or 0) <= 32000:
                assert time.monotonic() < deadline, "the caller's audio did not reach the page"
                page.wait_for_timeout(200)
            page.wait_for_timeout(2500)  # the agent speaks (the tone) for a while
            page.screenshot(path=tmp_path / "talking.png")
            page.click("#hang-up")
            expect(status).to_have_text("The call has ended.")
        finally:
            browser.close()
    line.join(timeout=60)
    result = outcome["result"]
    assert result.closed_by == "server"  # hanging up in the page ended the phone call
    pcm, rate = soundfile.read(out_wav, dtype="int16")
    assert tone_share(pcm, rate) > 0.8, "the agent's microphone did not reach the caller"
