"""`voicebot-eval spoken-nlu`: first-turn intent accuracy when callers say the fresh phrasings.

The held-out phrasings of eval/data/nlu_fresh*.yml (the same ones `voicebot-eval nlu`
scores as text) are voiced by one voice family, in rotation over its speakers: by
default Kokoro, the family no tuning run hears. Two carriers:

- `phone` (the figure to report): each phrasing is the first turn of a real call on the
  engine's Twilio WebSocket: the greeting plays, the caller speaks over an 8 kHz μ-law
  line, the bot answers, the caller hangs up. The intent is the engine's record of that
  first turn, so turn-taking (a phrasing cut in two), the recogniser and Rasa all count.
  About 12 s a call; `--calls-at-once` overlaps calls.
- `line`: the same audio and line, transcribed offline as a call does
  (`transcribe_turn`, no domain prompt: the bot asked an open question), then parsed by
  Rasa. About a second an item, no turn-taking: for tuning on the tuning sets.

A turn the bot asked to hear again ("Sorry, could you repeat that?") has no intent and
counts as wrong; the report says how many there were.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from eval.calls.runner import ANSWERED_WITHIN_MS
from eval.nlu_eval import default_test_files, held_out, knowledge_intents, load_examples, score, training_sentences
from voicebot.credentials import carrier_key, service_headers
from voicebot.settings import PROJECT_ROOT, Settings

RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "spoken_nlu.json"
TAIL_SILENCE_S = 1.0  # the caller stays on the line, quiet, after speaking
NO_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class SpokenItem:
    text: str
    intent: str
    set_name: str
    voice: str


@dataclass(frozen=True)
class Heard:
    """What the bot made of one spoken phrasing: its transcript and intent of the first turn."""

    transcript: str
    intent: str
    asked_to_repeat: bool = False
    turns: int = 1  # caller turns the engine heard before the caller hung up (2+: the phrasing was cut)


def family_voices(family: str) -> list[str]:
    from eval.calls.voices import VOICES, VoiceUnavailable, require

    names = [name for name, voice in VOICES.items() if voice.family == family or name == family]
    if not names:
        families = sorted({v.family for v in VOICES.values()})
        raise VoiceUnavailable(f"no voice family or voice {family!r}; families: {', '.join(families)}; voices: {', '.join(VOICES)}")
    require(names[0])  # fail with the install hint before any work
    return names


def spoken_items(settings: Settings, files: list[Path], voices: list[str], limit: int | None) -> list[SpokenItem]:
    """Every held-out phrasing, each in the next voice of the rotation; `limit` keeps an even share of each set."""
    training = training_sentences(settings.nlu_dir)
    items: list[SpokenItem] = []
    for path in files:
        examples, _ = held_out(load_examples(path), training)
        if limit is not None:
            step = max(1, len(examples) / max(1, limit // len(files)))
            examples = [examples[int(i * step)] for i in range(min(len(examples), limit // len(files)))]
        items += [SpokenItem(text, intent, path.name, voices[(len(items) + n) % len(voices)]) for n, (text, intent) in enumerate(examples)]
    return items


def caller_audio(item: SpokenItem, tts_url: str) -> np.ndarray:
    """The phrasing in its voice as 8 kHz 16-bit telephone audio (band-limited), with quiet after."""
    import soxr

    from eval.calls.line import LineCondition, degrade
    from eval.calls.voices import synthesise

    audio, rate = synthesise(item.voice, item.text, tts_url)
    narrow = soxr.resample(audio.astype(np.float32), rate, 8000) if rate != 8000 else audio
    narrow = np.concatenate([narrow, np.zeros(int(TAIL_SILENCE_S * 8000), dtype=np.float32)])
    return degrade((np.clip(narrow, -1.0, 1.0) * 32767).round().astype(np.int16), LineCondition())


# --- carriers ------------------------------------------------------------------------


def hear_by_phone(settings: Settings, items: list[SpokenItem], calls_at_once: int, echo: Callable[[str], None]) -> list[Heard]:
    """Each phrasing as the first turn of a real call; up to `calls_at_once` calls overlap."""
    from voicebot.telephony.twilio.caller import Say, fetch_call_record, play_call

    url = settings.engine_url.replace("http", "ws", 1) + "/telephony/twilio"
    echo(f"Voicing {len(items)} phrasings ...")
    audio = [caller_audio(item, settings.tts_url) for item in items]
    heard: list[Heard | None] = [None] * len(items)
    started, done = time.monotonic(), 0

    async def one(n: int, gate: asyncio.Semaphore) -> None:
        nonlocal done
        async with gate:
            result = await play_call(url, [Say(audio[n], items[n].text)], reply_timeout_s=20.0, key=carrier_key(settings))
            record = await fetch_call_record(settings.engine_url, result.call_id, service_headers(settings))
        spoken = [t for t in record.get("turns", []) if t.get("caller_text")]
        if spoken:
            heard[n] = Heard(spoken[0]["caller_text"], spoken[0].get("intent") or NO_INTENT, turns=len(spoken))
        else:  # no turn on record: the bot asked to hear it again (not on the record), or heard nothing
            latency = result.turns[0].get("latency_ms") if result.turns else None
            heard[n] = Heard("", NO_INTENT, asked_to_repeat=latency is not None and latency <= ANSWERED_WITHIN_MS, turns=0)
        done += 1
        if done % 20 == 0 or done == len(items):
            echo(f"  {done}/{len(items)} calls ({time.monotonic() - started:.0f} s)")

    async def all_calls() -> None:
        gate = asyncio.Semaphore(calls_at_once)
        await asyncio.gather(*(one(n, gate) for n in range(len(items))))

    asyncio.run(all_calls())
    return [h for h in heard if h is not None]


def hear_by_line(settings: Settings, items: list[SpokenItem], parse: Callable, echo: Callable[[str], None]) -> list[Heard]:
    """The same audio transcribed offline as a call's first turn is, then parsed by Rasa."""
    from eval.asr_eval import over_the_phone
    from eval.calls.line import LineCondition
    from eval.calls.voices import synthesise
    from voicebot.runtime.models import load_whisper
    from voicebot.voice.whisper import transcribe_turn

    model = load_whisper(settings, echo)
    prompt = settings.whisper_initial_prompt if settings.whisper_prompt_when == "always" else None
    transcripts, doubted, started = [], [], time.monotonic()
    for n, item in enumerate(items, 1):
        audio = over_the_phone(*synthesise(item.voice, item.text, settings.tts_url), LineCondition())
        result = transcribe_turn(model, audio, beam_size=settings.whisper_beam_size, initial_prompt=prompt or None)
        transcripts.append(result.text)
        doubted.append(bool(result.doubt))
        if n % 50 == 0 or n == len(items):
            echo(f"  {n}/{len(items)} transcribed ({time.monotonic() - started:.0f} s)")
    parsed = parse(settings, [t or "-" for t in transcripts])
    return [
        Heard(text, NO_INTENT if doubt or not text else (p["intent"] or NO_INTENT), asked_to_repeat=doubt)
        for text, doubt, p in zip(transcripts, doubted, parsed)
    ]


# --- the report ----------------------------------------------------------------------


def report_of(settings: Settings, items: list[SpokenItem], heard: list[Heard], via: str, calls_at_once: int) -> dict:
    policy = knowledge_intents(settings.nlu_dir)

    def as_one(intent: str) -> str:
        return "knowledge_base" if intent in policy else intent

    pairs = [(item.text, item.intent, h.intent) for item, h in zip(items, heard)]
    report: dict = {
        "via": via,
        "calls_at_once": calls_at_once if via == "phone" else None,
        "voices": sorted({item.voice for item in items}),
        "sets": {},
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    for name in dict.fromkeys(item.set_name for item in items):
        chosen = [n for n, item in enumerate(items) if item.set_name == name]
        result = score([pairs[n] for n in chosen])
        report["sets"][name] = {"examples": result["examples"], "accuracy": result["accuracy"], "macro_f1": result["macro_f1"]}
    overall = score(pairs)
    merged = score([(text, as_one(gold), as_one(predicted)) for text, gold, predicted in pairs])
    report["overall"] = {
        "examples": overall["examples"], "accuracy": overall["accuracy"], "macro_f1": overall["macro_f1"],
        "accuracy_knowledge_intents_as_one": merged["accuracy"],
        "asked_to_repeat": sum(h.asked_to_repeat for h in heard),
        "cut_into_turns": sum(h.turns > 1 for h in heard),
        "per_voice": {
            voice: score([p for p, item in zip(pairs, items) if item.voice == voice])["accuracy"]
            for voice in report["voices"]
        },
        "confusions": overall["confusions"][:20],
    }
    report["items"] = [
        {"text": item.text, "expected_intent": item.intent, "set": item.set_name, "voice": item.voice,
         "transcript": h.transcript, "heard_intent": h.intent, "asked_to_repeat": h.asked_to_repeat, "turns": h.turns}
        for item, h in zip(items, heard)
    ]
    return report


def print_report(report: dict) -> None:
    print(f"\nfirst-turn intent, via {report['via']}" + (f", {report['calls_at_once']} call(s) at once" if report["calls_at_once"] else "") + f"; voices {', '.join(report['voices'])}")
    for name, result in report["sets"].items():
        print(f"  {name:<20} {result['examples']:>4} phrasings   accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
    o = report["overall"]
    print(f"  {'ALL':<20} {o['examples']:>4} phrasings   accuracy {o['accuracy']:.3f}   macro-F1 {o['macro_f1']:.3f}")
    print(f"  with the knowledge-base intents as one: {o['accuracy_knowledge_intents_as_one']:.3f}")
    print(f"  asked to repeat: {o['asked_to_repeat']}   cut into two or more turns: {o['cut_into_turns']}")
    print("  per voice: " + ", ".join(f"{v} {a:.3f}" for v, a in sorted(o["per_voice"].items())))


def run(settings: Settings, args: argparse.Namespace, parse: Callable, echo: Callable[[str], None]) -> int:
    from eval.calls.voices import VoiceUnavailable

    files = [Path(f) for f in args.data] if args.data else default_test_files()
    try:
        voices = family_voices(args.voices)
    except VoiceUnavailable as error:
        echo(f"error: {error}")
        return 2
    items = spoken_items(settings, files, voices, args.limit)
    if args.via == "phone":
        from eval.calls.runner import suite_engine

        with suite_engine(echo) as engine_settings:
            heard = hear_by_phone(engine_settings, items, args.calls_at_once, echo)
    else:
        from eval.calls.voices import VOICES, piper_for_voicing

        with piper_for_voicing(settings, needed=any(VOICES[v].family == "piper" for v in voices), echo=echo):
            heard = hear_by_line(settings, items, parse, echo)
    report = report_of(settings, items, heard, args.via, args.calls_at_once)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "items"}, indent=2))
    else:
        print_report(report)
        echo(f"\nResults (with every transcript) written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
