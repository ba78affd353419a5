"""`voicebot-eval vad`: does the call's VAD hear the caller at all, and does it hear speech in noise?

A turn the VAD never reports is worse than a misheard one: the bot says nothing until
"Are you still there?". Each caller turn of eval/data/asr_caller_turns.txt, and short
answers ("yes", "sorry", "representative"), is voiced by the tuning voices and, reported
apart, by the held-out Kokoro family, sent over a phone line (quiet, 15 dB noise, 5 %
packet loss) after 3 s of that line with nobody speaking, and run through each VAD
setup as a call runs it (16 kHz frames of 20 ms). A person's recorded telephone prompts
(Debian asterisk-core-sounds-en-wav) are heard the same way; silence, hiss and hold music
show false speech. Per setup: the share of turns heard at all, the share of their
speech reported as speech, and seconds of false speech.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voicebot.settings import PROJECT_ROOT, Settings

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "vad.json"
CALLER_TURNS = PROJECT_ROOT / "eval" / "data" / "asr_caller_turns.txt"
SHORT_ANSWERS = ("Yes.", "No.", "Sorry?", "Representative.", "Not really.", "Okay.", "Yeah, that's right.", "Agent.")
LEAD_S = 3.0  # the line before the caller speaks: long enough for Silero's state to drift, as after a greeting
FRAME_S = 0.02
TUNING_VOICES = ("joe", "joe-fast", "joe-low", "joe-slow", "espeak-us")
CONDITIONS = {"quiet": {}, "noise 15 dB": {"snr_db": 15.0}, "loss 5 %": {"loss": 0.05}}


@dataclass(frozen=True)
class VadSetup:
    name: str
    rate: int  # the rate Silero's model runs at
    confidence: float


SETUPS = (VadSetup("16 kHz, 0.7 (before)", 16000, 0.7), VadSetup("8 kHz, 0.7", 8000, 0.7), VadSetup("8 kHz, 0.5 (the call's)", 8000, 0.5))


def analyzer(setup: VadSetup, settings: Settings):
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADParams

    from voicebot.voice.vad import TelephoneBandVADAnalyzer

    params = VADParams(stop_secs=settings.vad_stop_secs, confidence=setup.confidence)
    vad = SileroVADAnalyzer(params=params) if setup.rate == 16000 else TelephoneBandVADAnalyzer(params=params)
    vad.set_sample_rate(16000)
    return vad


def speech_seconds(audio16: np.ndarray, setup: VadSetup, settings: Settings, after_s: float = 0.0) -> float:
    """Seconds the VAD reports as speech after `after_s` (16 kHz float audio, fed in 20 ms frames)."""
    from pipecat.audio.vad.vad_analyzer import VADState

    vad = analyzer(setup, settings)
    pcm = (np.clip(audio16, -1, 1) * 32767).astype(np.int16)
    step = int(FRAME_S * 16000)

    async def run() -> float:
        spoken = 0.0
        for n in range(0, pcm.size - step + 1, step):
            if await vad.analyze_audio(pcm[n : n + step].tobytes()) == VADState.SPEAKING and n / 16000 >= after_s:
                spoken += FRAME_S
        return spoken

    return asyncio.run(run())


def loud_seconds(audio16: np.ndarray, floor_db: float = 35.0) -> float:
    """How long the clip's speech lasts: 20 ms frames within `floor_db` of its loudest."""
    frames = audio16[: audio16.size // 320 * 320].reshape(-1, 320)
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    return float((level > level.max() - floor_db).sum() * FRAME_S)


def caller_clips(settings: Settings, voices: list[str], limit: int, echo: Callable[[str], None]) -> list[tuple[str, str, str, np.ndarray, float]]:
    """(voice, condition, text, 16 kHz audio with the quiet line first, speech seconds) for each turn in each voice."""
    from eval.asr_eval import over_the_phone
    from eval.calls.line import LineCondition
    from eval.calls.voices import synthesise

    texts = [t.strip() for t in CALLER_TURNS.read_text().splitlines() if t.strip() and not t.startswith("#")]
    texts = (texts[:limit] + list(SHORT_ANSWERS)) if limit else texts + list(SHORT_ANSWERS)
    clips = []
    for n, text in enumerate(texts):
        voice = voices[n % len(voices)]
        audio, rate = synthesise(voice, text, settings.tts_url)
        speech = loud_seconds(over_the_phone(audio, rate))
        name, condition = list(CONDITIONS.items())[n % len(CONDITIONS)]
        lead = np.zeros(int(LEAD_S * rate), dtype=np.float32)
        clips.append((voice, name, text, over_the_phone(np.concatenate([lead, audio]), rate, LineCondition(seed=n, **condition)), speech))
    echo(f"  voiced {len(clips)} turns in {', '.join(voices)}")
    return clips


def score(clips, setup: VadSetup, settings: Settings) -> dict:
    found = [speech_seconds(audio, setup, settings, after_s=LEAD_S - 0.1) for *_, audio, _ in clips]
    spoken = [c[-1] for c in clips]
    return {
        "turns": len(clips),
        "heard": round(float(np.mean([f > 0 for f in found])), 3),
        "speech_found": round(sum(min(f, s) for f, s in zip(found, spoken)) / max(sum(spoken), 1e-9), 3),
        "missed": [c[2] for c, f in zip(clips, found) if f == 0],
    }


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from eval.asr_eval import no_speech_clips, recorded_clips
    from eval.calls.voices import VOICES, piper_for_voicing
    from eval.spoken_nlu import family_voices

    started = time.monotonic()
    held_out = family_voices("kokoro")
    with piper_for_voicing(settings, echo=echo):
        families = {"tuning voices": caller_clips(settings, [v for v in TUNING_VOICES if v in VOICES], args.limit, echo)}
        families["kokoro (held out)"] = caller_clips(settings, held_out, args.limit, echo)
    recorded = [(c.source, "recorded", c.text, np.concatenate([np.zeros(int(LEAD_S * 16000), np.float32), c.audio]), loud_seconds(c.audio)) for c in recorded_clips(args.recorded)]
    quiet = no_speech_clips()
    report: dict = {"setups": {}, "lead_s": LEAD_S, "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for setup in SETUPS:
        echo(f"  {setup.name} ...")
        entry = {name: score(clips, setup, settings) for name, clips in families.items()}
        entry["recorded person"] = score(recorded, setup, settings)
        entry["false_speech_s"] = {c.source: round(speech_seconds(c.audio, setup, settings), 2) for c in quiet}
        entry["false_speech_total_s"] = round(sum(entry["false_speech_s"].values()), 2)
        entry["false_speech_audio_s"] = round(sum(c.audio.size / 16000 for c in quiet), 1)
        report["setups"][setup.name] = entry
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"\nVAD: turns heard at all / share of their speech reported ({time.monotonic() - started:.0f} s)")
    for name, entry in report["setups"].items():
        parts = [f"{family} {entry[family]['heard']:.2f}/{entry[family]['speech_found']:.2f}" for family in (*families, "recorded person")]
        print(f"  {name:<22} " + "   ".join(parts) + f"   false speech {entry['false_speech_total_s']:.1f} s in {entry['false_speech_audio_s']:.0f} s of no speech")
    echo(f"\nResults (with the turns each setup missed) written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
