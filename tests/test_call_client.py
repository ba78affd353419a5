"""The scripted phone caller: its audio path, its bookkeeping, and one real WebSocket call."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import warnings
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.telephony.twilio import caller as cc

# --- mu-law ------------------------------------------------------------------------------


def test_ulaw_round_trip_error_is_bounded():
    x = np.arange(-32768, 32768, dtype=np.int32)
    ulaw = cc.lin2ulaw(x.astype(np.int16))
    assert len(ulaw) == len(x)
    back = cc.ulaw2lin(ulaw).astype(np.int32)
    error = np.abs(back - x)
    # G.711 keeps ~4 bits of mantissa: error under 1/16 of the level, plus the smallest step.
    body = np.abs(x) <= 32000
    assert np.all(error[body] <= np.abs(x[body]) / 16 + 8)
    assert error.max() <= 644  # only the clipped peaks beyond 32124 lose more
    assert np.all(np.sign(back[np.abs(x) > 8]) == np.sign(x[np.abs(x) > 8]))


def test_ulaw_silence_and_all_codes():
    assert cc.lin2ulaw(np.zeros(4, dtype=np.int16)) == b"\xff" * 4
    assert np.all(cc.ulaw2lin(cc.SILENCE_FRAME) == 0)
    codes = bytes(range(256))
    assert cc.lin2ulaw(cc.ulaw2lin(codes)) == codes.replace(b"\x7f", b"\xff")  # -0 encodes as +0


def test_ulaw_matches_audioop_where_it_still_exists():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    x = np.arange(-32768, 32768, dtype=np.int16)
    assert cc.lin2ulaw(x) == audioop.lin2ulaw(x.tobytes(), 2)
    codes = bytes(range(256))
    assert cc.ulaw2lin(codes).tobytes() == audioop.ulaw2lin(codes, 2)


# --- WAV loading and framing -------------------------------------------------------------


def tone(rate: int, seconds: float, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("rate", "channels", "subtype"),
    [(8000, 1, "PCM_16"), (16000, 1, "PCM_16"), (22050, 2, "PCM_16"), (44100, 2, "PCM_16"), (48000, 1, "PCM_24")],
)
def test_load_wav_resamples_to_8k_mono(tmp_path: Path, rate: int, channels: int, subtype: str):
    audio = tone(rate, 0.5)
    if channels == 2:
        audio = np.stack([audio, audio], axis=1)
    path = tmp_path / f"in_{rate}.wav"
    sf.write(path, audio, rate, subtype=subtype)
    pcm = cc.load_wav_8k(path)
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert abs(len(pcm) - 4000) <= 1
    middle = pcm[400:-400].astype(np.float64)
    assert abs(np.sqrt((middle**2).mean()) - 0.5 * 32767 / np.sqrt(2)) < 300  # level kept
    spectrum = np.abs(np.fft.rfft(middle))
    assert abs(np.argmax(spectrum) * 8000 / len(middle) - 440) < 5  # pitch kept


def test_frames_are_20ms_of_160_bytes_padded_with_silence():
    frames = cc.frames_of(np.full(8000 * 3 // 10 + 10, 1000, dtype=np.int16))  # 0.3 s + 10 samples
    assert len(frames) == 16
    assert all(len(f) == cc.FRAME_BYTES == 160 for f in frames)
    assert frames[-1][10:] == b"\xff" * 150
    assert cc.frames_of(np.zeros(0, dtype=np.int16)) == []


def test_speech_frames_skip_leading_and_trailing_silence():
    pcm = np.concatenate([np.zeros(800), (tone(8000, 0.5) * 32767), np.zeros(1600)]).astype(np.int16)
    assert cc.speech_frames(pcm) == (800 // 160, (800 + 4000) // 160 - 1)
    assert cc.speech_frames(np.zeros(1000, dtype=np.int16)) == (0, 6)


# --- bookkeeping ---------------------------------------------------------------------------


def test_bot_track_judges_speech_by_audio_duration_and_clear():
    track = cc.BotTrack()
    second = b"\xff" * 8000
    track.add(second, now=10.0)
    track.add(second, now=10.01)  # two seconds of audio arrive at once
    assert track.play_end == pytest.approx(12.0)
    assert track.quiet_since(9.0) == pytest.approx(12.0)
    assert track.quiet_since(10.5) is None  # nothing arrived after 10.5
    assert track.seconds_between(9.0, 11.0) == pytest.approx(2.0)
    track.clear(now=10.5)
    assert track.play_end == pytest.approx(10.5)
    track.add(second, now=20.0)
    assert track.play_end == pytest.approx(21.0)
    assert len(track.pcm()) == 3 * 8000


def test_latency_is_last_speech_frame_to_first_bot_audio_after_it():
    track = cc.BotTrack()
    track.add(b"\xff" * 160, now=1.0)  # greeting, before the caller spoke
    track.add(b"\xff" * 160, now=5.25)
    track.add(b"\xff" * 160, now=5.27)
    assert cc.latency_ms(5.0, track) == pytest.approx(250.0)
    assert cc.latency_ms(0.5, track) == pytest.approx(500.0)
    assert cc.latency_ms(6.0, track) is None


def test_latency_counts_from_the_first_audible_bot_frame():
    track = cc.BotTrack()
    loud = cc.lin2ulaw((np.sin(np.arange(160) / 3) * 8000).astype(np.int16))
    track.add(b"\xff" * 160, now=5.10)  # silence the bot sends first
    track.add(loud, now=5.30)
    assert cc.latency_ms(5.0, track) == pytest.approx(300.0)


def test_merge_pairs_engine_turns_with_measured_latency():
    result = cc.CallResult(call_id="CA1", stream_sid="MZ1", bot_audio="bot.wav")
    result.turns = [{"kind": "audio", "latency_ms": 900.0}, {"kind": "dtmf", "latency_ms": 700.0}]
    record = {
        "outcome": "resolved",
        "turns": [
            {"caller_text": None, "intent": None, "bot_text": "Hello"},
            {"caller_text": "where is my order", "intent": "track_order", "bot_text": "Order number?"},
            {"caller_text": "104233", "intent": "inform", "bot_texts": ["It is in transit.", "Anything else?"]},
        ],
    }
    merged = cc.merge(result, record)
    assert merged == {
        "call_id": "CA1",
        "outcome": "resolved",
        "bot_audio": "bot.wav",
        "turns": [
            {"caller_text": "where is my order", "intent": "track_order", "bot_text": "Order number?", "latency_ms": 900.0},
            {"caller_text": "104233", "intent": "inform", "bot_text": "It is in transit. Anything else?", "latency_ms": 700.0},
        ],
    }
    assert cc.merge(result, {})["turns"][0] == {"caller_text": None, "intent": None, "bot_text": None, "latency_ms": 900.0}


def test_call_options_work_as_a_subcommand():
    import argparse

    from voicebot.settings import Settings

    parser = argparse.ArgumentParser(prog="voicebot")
    sub = parser.add_subparsers(dest="command")
    cc.add_arguments(sub.add_parser("call"), Settings(port=9001))
    args = parser.parse_args(["call", "--audio", "a.wav", "--audio", "b.wav", "--dtmf", "12#", "--hangup-after", "2.5"])
    assert [str(p) for p in args.audio] == ["a.wav", "b.wav"] and args.dtmf == "12#" and args.hangup_after == 2.5
    assert args.url == "ws://127.0.0.1:9001/telephony/twilio" and args.engine_url == "http://127.0.0.1:9001"


def test_missing_wav_is_a_clear_error(capsys, tmp_path: Path):
    assert cc.main(["--audio", str(tmp_path / "nope.wav")]) == 2
    assert "no such WAV file" in capsys.readouterr().err


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit):
        cc.main(["--help"])
    out = capsys.readouterr().out
    for option in ("--url", "--audio", "--dtmf", "--out", "--json", "--engine-url", "--hangup-after", "/telephony/twilio"):
        assert option in out


# --- a real call against a tiny Twilio-style server -----------------------------------------

REPLY_DELAY_S = 0.3
GREETING_S = 0.3
REPLY_S = 0.4


def media(stream_sid: str, pcm: np.ndarray) -> list[str]:
    return [
        json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(f).decode()}})
        for f in cc.frames_of(pcm)
    ]


class ToneBot:
    """Greets, then after each caller utterance (speech followed by silence) waits
    REPLY_DELAY_S and sends a tone all at once, faster than real time, then a mark.
    Sends `clear` when the caller starts talking, as a barge-in-capable bot does."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.replied_at: list[float] = []

    async def handler(self, ws) -> None:
        connected = json.loads(await ws.recv())
        start = json.loads(await ws.recv())
        self.received += [connected, start]
        sid = start["streamSid"]
        for message in media(sid, (tone(8000, GREETING_S) * 20000).astype(np.int16)):
            await ws.send(message)
        speaking, turn = False, 0
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.received.append(msg)
                if msg["event"] != "media":
                    continue
                loud = np.abs(cc.ulaw2lin(base64.b64decode(msg["media"]["payload"]))).max() > 1000
                if loud and not speaking:
                    speaking = True
                    await ws.send(json.dumps({"event": "clear", "streamSid": sid}))
                elif speaking and not loud:
                    speaking, turn = False, turn + 1
                    await asyncio.sleep(REPLY_DELAY_S)
                    self.replied_at.append(time.monotonic())
                    for message in media(sid, (tone(8000, REPLY_S, 660) * 20000).astype(np.int16)):
                        await ws.send(message)
                    await ws.send(json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": f"turn-{turn}"}}))
        except Exception:  # the caller hung up
            pass

    def events(self, name: str) -> list[dict]:
        return [m for m in self.received if m.get("event") == name]


@pytest.fixture
async def tone_bot():
    import websockets

    bot = ToneBot()
    async with websockets.serve(bot.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield bot, f"ws://127.0.0.1:{port}/telephony/twilio"


def write_turn(path: Path, rate: int, channels: int, trailing_s: float = 0.2) -> Path:
    audio = np.concatenate([tone(rate, 0.5, 300), np.zeros(int(rate * trailing_s), dtype=np.float32)])
    if channels == 2:
        audio = np.stack([audio, audio], axis=1)
    sf.write(path, audio, rate, subtype="PCM_16")
    return path


async def test_place_call_against_a_tone_bot(tone_bot, tmp_path: Path):
    bot, url = tone_bot
    # the second WAV ends on speech, with no trailing silence
    turns = [write_turn(tmp_path / "a.wav", 16000, 2), write_turn(tmp_path / "b.wav", 44100, 1, trailing_s=0)]
    out = tmp_path / "bot.wav"
    result = await cc.place_call(
        url, turns, dtmf="12#", out_wav=out, caller="+15550001", silence_between_s=0.3, reply_timeout_s=1.0
    )

    start = bot.received[1]
    assert bot.received[0]["event"] == "connected"
    assert start["event"] == "start" and start["streamSid"].startswith("MZ")
    assert start["start"]["callSid"] == result.call_id and result.call_id.startswith("CA")
    assert start["start"]["customParameters"] == {"caller": "+15550001"}
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in bot.events("media"))
    assert [m["dtmf"]["digit"] for m in bot.events("dtmf")] == ["1", "2", "#"]
    assert [m["mark"]["name"] for m in bot.events("mark")] == ["turn-1", "turn-2"]  # echoed once played
    assert bot.received[-1]["event"] == "stop"

    assert result.clears == 2
    assert result.marks == ["turn-1", "turn-2"]
    assert result.events == {"media": int((GREETING_S + 2 * REPLY_S) / 0.02), "clear": 2, "mark": 2}
    assert result.greeting["bot_audio_s"] == pytest.approx(GREETING_S)
    audio_turns = [t for t in result.turns if t["kind"] == "audio"]
    assert len(audio_turns) == 2 and result.turns[-1]["kind"] == "dtmf"
    for turn in audio_turns:
        # the bot answers 20 ms frame + REPLY_DELAY_S after the last loud frame went out
        assert REPLY_DELAY_S * 1000 < turn["latency_ms"] < REPLY_DELAY_S * 1000 + 150
        assert turn["bot_audio_s"] == pytest.approx(REPLY_S)
    assert result.turns[-1]["latency_ms"] is None  # the tone bot ignores keypresses
    assert result.closed_by == "caller" and not result.hung_up_early

    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() / 8000 == pytest.approx(GREETING_S + 2 * REPLY_S)
    assert result.bot_audio == str(out)


async def test_hangup_after_abandons_the_call(tone_bot, tmp_path: Path):
    bot, url = tone_bot
    turn = write_turn(tmp_path / "a.wav", 8000, 1)
    t0 = time.monotonic()
    result = await cc.place_call(url, [turn, turn], dtmf=None, out_wav=None, hangup_after_s=0.8, silence_between_s=0.3)
    assert time.monotonic() - t0 < 2.0
    assert result.hung_up_early and len(result.turns) < 2
    assert bot.received[-1]["event"] == "stop"
    assert result.bot_audio is None
