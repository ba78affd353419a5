"""`voicebot-eval asr`: word error rate and time of the caller-side speech recogniser.

Every caller turn in eval/data/asr_caller_turns.txt is voiced by eval/calls/voices.py
(Piper at two speeds, plus espeak-ng's American voice where espeak-ng is installed), put
through a telephone line (8 kHz, G.711 μ-law, back to 16 kHz, as the Twilio bridge
does) and transcribed exactly as a call does (`transcribe_turn`, the engine's beam,
prompt and 0.5 s trailing silence), once per encoder window length. It prints word
error rate, how many spoken digit strings came out exactly, and the time per turn.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from eval.calls.line import LineCondition, degrade
from eval.calls.voices import VoiceUnavailable, piper_for_voicing, piper_speech, require, synthesise
from eval.latency_stats import summarise
from voicebot.settings import PROJECT_ROOT, Settings

DATA_FILE = PROJECT_ROOT / "eval" / "data" / "asr_caller_turns.txt"
RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "asr.json"
TRAILING_SILENCE_S = 0.5  # what pipecat's SegmentedSTTService appends to every segment
DIGIT_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}


def caller_turns(path: Path = DATA_FILE) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# --- scoring -------------------------------------------------------------------------


def normalise(text: str) -> list[str]:
    """Text → words for scoring: lower case, no punctuation, numbers as spoken words.

    Digit strings (3+ digits or a leading zero: order numbers, ZIP codes) become one
    word per digit, 1–2 digit numbers their usual words ("12" → "twelve"), and "oh"
    next to a digit is zero, so "1 0 4", "104" and "one oh four" all score the same.
    """
    from num2words import num2words

    text = re.sub(r"(?<=\d)[-,.](?=\d)", " ", text.lower())
    words: list[str] = []
    for token in re.sub(r"[^a-z0-9' ]+", " ", text).split():
        if token.isdigit():
            if len(token) >= 3 or token.startswith("0"):
                words += [num2words(int(d)) for d in token]
            else:
                words += num2words(int(token)).replace("-", " ").split()
        else:
            words.append(token)
    for i, word in enumerate(words):
        if word == "oh" and any(0 <= j < len(words) and words[j] in DIGIT_WORDS for j in (i - 1, i + 1)):
            words[i] = "zero"
    return words


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitutions + insertions + deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def digit_string(words: list[str]) -> str:
    return "".join(DIGIT_WORDS[w] for w in words if w in DIGIT_WORDS)


# --- caller audio --------------------------------------------------------------------


Speech = Callable[[str], tuple[np.ndarray, int]]  # text → float32 mono audio, sample rate


def voices(settings: Settings) -> dict[str, Speech]:
    """Piper at two paces, and espeak-ng's American voice where it is installed."""
    found: dict[str, Speech] = {
        "piper": lambda text: piper_speech(text, settings.tts_url, 1.0),
        "piper-slow": lambda text: piper_speech(text, settings.tts_url, 1.3),
    }
    try:
        require("espeak-us")  # robotic; en-gb was so bad (57 % WER) that it measured nothing
    except VoiceUnavailable:
        return found
    found["espeak-us"] = lambda text: synthesise("espeak-us", text, settings.tts_url)
    return found


def over_the_phone(audio: np.ndarray, rate: int, condition: LineCondition | None = None) -> np.ndarray:
    """Caller audio → what the engine's recogniser gets from a Twilio call: 16 kHz float32 from 8 kHz μ-law,
    through `condition`'s line (band-limited, noise, lost packets) when one is given."""
    import soxr

    from voicebot.telephony.twilio.caller import lin2ulaw, ulaw2lin

    narrow = (np.clip(soxr.resample(audio, rate, 8000), -1, 1) * 32767).round().astype(np.int16)
    if condition is not None:
        narrow = degrade(narrow, condition)
    pcm8 = ulaw2lin(lin2ulaw(narrow))
    wide = soxr.resample(pcm8.astype(np.float32) / 32768.0, 8000, 16000)
    return np.concatenate([wide, np.zeros(int(16000 * TRAILING_SILENCE_S), dtype=np.float32)]).astype(np.float32)


# --- the run -------------------------------------------------------------------------


def evaluate(model, clips: list[tuple[str, str, np.ndarray]], settings: Settings, window_s: float) -> dict:
    from voicebot.voice.whisper import transcribe_turn

    model.min_window_s = window_s
    errors = words = digits_right = digits_total = 0
    per_voice: dict[str, list[int]] = {}
    times, samples = [], []
    for voice, text, audio in clips:
        started = time.perf_counter()
        heard = transcribe_turn(model, audio, beam_size=settings.whisper_beam_size, initial_prompt=settings.whisper_initial_prompt or None).text
        times.append((time.perf_counter() - started) * 1000)
        reference, hypothesis = normalise(text), normalise(heard)
        wrong = word_errors(reference, hypothesis)
        errors, words = errors + wrong, words + len(reference)
        tally = per_voice.setdefault(voice, [0, 0])
        tally[0], tally[1] = tally[0] + wrong, tally[1] + len(reference)
        if len(digit_string(reference)) >= 4:
            digits_total += 1
            digits_right += digit_string(reference) == digit_string(hypothesis)
        samples.append({"voice": voice, "said": text, "heard": heard, "word_errors": wrong})
    return {
        "window_s": window_s,
        "wer": round(errors / words, 4),
        "wer_by_voice": {v: round(e / n, 4) for v, (e, n) in per_voice.items()},
        "digit_strings_exact": f"{digits_right}/{digits_total}",
        "time": summarise(times),
        "samples": samples,
    }


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    from voicebot.runtime.models import load_whisper
    from voicebot.voice.whisper import transcribe_turn

    texts = caller_turns()
    with piper_for_voicing(settings, echo=echo):
        speakers = voices(settings)
        echo(f"Voicing {len(texts)} caller turns with {', '.join(speakers)} and sending them through a phone line ...")
        clips = [(name, text, over_the_phone(*speak(text))) for name, speak in speakers.items() for text in texts]
    model = load_whisper(settings, echo=echo)
    transcribe_turn(model, clips[0][2])  # warm-up: the first decode allocates
    report = {"model": settings.whisper_model, "beam_size": settings.whisper_beam_size, "turns": len(clips), "windows": []}
    for window in args.windows:
        echo(f"Transcribing {len(clips)} turns with a {window:g} s encoder window ...")
        result = evaluate(model, clips, settings, window)
        report["windows"].append(result)
        echo(f"  WER {result['wer']:.1%}, digit strings exact {result['digit_strings_exact']}, p50 {result['time']['p50_ms']} ms")
    if args.prompts:
        shop = [Clip("shop", name, text, audio, len(digit_string(normalise(text))) >= 4) for name, text, audio in clips]
        others = recorded_clips() + no_speech_clips()
        echo(f"Comparing the domain prompt's policies on {len(shop)} shop turns, {len(others)} other clips ...")
        report["prompts"] = compare_prompts(model, shop + others, settings, echo)
    report["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    summary = [{k: v for k, v in w.items() if k != "samples"} for w in report["windows"]]
    prompts = {
        policy: {kind: {k: v for k, v in r.items() if k != "samples"} for kind, r in kinds.items()}
        for policy, kinds in report.get("prompts", {}).items()
    }
    if args.json:
        print(json.dumps({**report, "windows": summary, "prompts": prompts}, indent=2))
    else:
        for w in summary:
            by_voice = ", ".join(f"{v} {e:.1%}" for v, e in w["wer_by_voice"].items())
            print(
                f"window {w['window_s']:>4g} s: WER {w['wer']:.1%} ({by_voice}); digit strings exact "
                f"{w['digit_strings_exact']}; per turn p50 {w['time']['p50_ms']} ms, p95 {w['time']['p95_ms']} ms"
            )
        for policy, kinds in prompts.items():
            cells = []
            for kind, r in kinds.items():
                wer = f"WER {r['wer']:.1%}, " if r["wer"] is not None else ""
                digits = f"digits {r['digit_strings_exact']}, " if r["digit_strings_exact"] else ""
                cells.append(f"{kind}: {wer}{digits}wrong {r['wrong']}/{r['clips']} (doubt catches {r['wrong_caught_by_doubt']}, doubts {r['right_but_doubted']} right)")
            print(f"prompt {policy:6s} " + "; ".join(cells))
        echo(f"Results written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


# --- what the domain prompt does to speech that is not about an order -----------------

RECORDED_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")  # Debian asterisk-core-sounds-en-wav, CC-BY-SA-3.0
RECORDED_TEXTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")  # asterisk-core-sounds-en
HOLD_MUSIC_DIR = Path("/usr/share/asterisk/moh")  # Debian asterisk-moh-opsound-wav, CC-BY-SA-3.0
SHOP_WORDS = {"order", "orders", "cancel", "refund", "delivery", "tracking", "address", "zip", "package", "number", "shipping"}
PROMPT_POLICIES = ("always", "never", "number")  # the domain prompt on every turn, on none, only while a number is expected


@dataclass(frozen=True)
class Clip:
    kind: str  # "shop" (caller turns), "recorded" (a person's non-shop telephone speech), "no speech"
    source: str  # the voice, or what the no-speech audio is
    text: str  # the reference ('' for no speech)
    audio: np.ndarray
    number_expected: bool  # a bot that asked for a number would have heard this turn


def recorded_clips(limit: int = 80) -> list[Clip]:
    """A person's telephone speech with its transcript: Asterisk's English prompts (none about orders)."""
    import gzip
    import soxr

    if not RECORDED_TEXTS.exists():
        raise SystemExit("needs Debian's asterisk-core-sounds-en-wav and asterisk-core-sounds-en (apt-get install them)")
    clips = []
    for line in gzip.open(RECORDED_TEXTS, "rt").read().splitlines():
        name, _, text = line.partition(": ")
        wav = RECORDED_DIR / f"{name}.wav"
        if not text or text.startswith("[") or not wav.exists() or len(text.split()) < 2 or len(text) > 160:
            continue
        with wave.open(str(wav)) as recording:
            audio = np.frombuffer(recording.readframes(recording.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
            rate = recording.getframerate()
        clips.append(Clip("recorded", "allison (recorded)", text.strip(" ."), over_the_phone(audio, rate), False))
        if len(clips) >= limit:
            break
    return clips


def no_speech_clips(seed: int = 3) -> list[Clip]:
    """What a line carries when nobody speaks: silence, line hiss, hold music (no transcript is right)."""
    import soxr

    if not any(HOLD_MUSIC_DIR.glob("*.wav")):
        raise SystemExit("needs Debian's asterisk-moh-opsound-wav for hold music (apt-get install asterisk-moh-opsound-wav)")
    rng = np.random.default_rng(seed)
    clips = [Clip("no speech", "silence", "", over_the_phone(np.zeros(16000 * 2, dtype=np.float32), 16000), False)]
    for level in (0.003, 0.01, 0.03):
        noise = (level * rng.standard_normal(16000 * 2)).astype(np.float32)
        clips.append(Clip("no speech", f"hiss {20 * np.log10(level):.0f} dBFS", "", over_the_phone(noise, 16000), False))
    for wav in sorted(HOLD_MUSIC_DIR.glob("*.wav"))[:5]:
        with wave.open(str(wav)) as music:
            rate = music.getframerate()
            music.setpos(min(music.getnframes() // 3, 20 * rate))
            pcm = np.frombuffer(music.readframes(3 * rate * music.getnchannels()), dtype=np.int16)
            audio = pcm.reshape(-1, music.getnchannels()).mean(axis=1).astype(np.float32) / 32768.0
        clips.append(Clip("no speech", f"hold music {wav.stem}", "", over_the_phone(0.3 * audio, rate), False))
    return clips


def compare_prompts(model, clips: list[Clip], settings: Settings, echo: Callable[[str], None]) -> dict:
    """Each prompt policy over every clip: WER and digits on shop turns, WER and invented shop words on
    other speech, hallucinations on no speech; and how many of each the doubt signals catch."""
    from voicebot.voice.turns import words_in
    from voicebot.voice.whisper import transcribe_turn

    report = {}
    for policy in PROMPT_POLICIES:
        echo(f"  prompt {policy}: {len(clips)} clips ...")
        tallies: dict[str, dict] = {}
        for clip in clips:
            prompt_on = policy == "always" or (policy == "number" and clip.number_expected)
            heard = transcribe_turn(
                model, clip.audio, beam_size=settings.whisper_beam_size,
                initial_prompt=(settings.whisper_initial_prompt or None) if prompt_on else None,
            )
            t = tallies.setdefault(clip.kind, {"clips": 0, "errors": 0, "words": 0, "digits": [0, 0], "wrong": 0, "wrong_doubted": 0, "right_doubted": 0, "samples": []})
            t["clips"] += 1
            reference, hypothesis = normalise(clip.text), normalise(heard.text)
            if clip.kind == "no speech":
                wrong = bool(hypothesis)  # anything heard is made up
            else:
                errors = word_errors(reference, hypothesis)
                t["errors"], t["words"] = t["errors"] + errors, t["words"] + len(reference)
                invented = (set(words_in(heard.text)) & SHOP_WORDS) - set(words_in(clip.text))
                wrong = bool(invented) if clip.kind == "recorded" else errors / max(1, len(reference)) > 0.5
                if len(digit_string(reference)) >= 4:
                    t["digits"][1] += 1
                    t["digits"][0] += digit_string(reference) == digit_string(hypothesis)
            t["wrong"] += wrong
            t["wrong_doubted"] += wrong and heard.doubt is not None
            t["right_doubted"] += (not wrong) and heard.doubt is not None
            t["samples"].append({"source": clip.source, "said": clip.text, "heard": heard.text, "doubt": heard.doubt, "avg_logprob": round(heard.avg_logprob, 3)})
        report[policy] = {
            kind: {
                "clips": t["clips"],
                "wer": round(t["errors"] / t["words"], 4) if t["words"] else None,
                "digit_strings_exact": f"{t['digits'][0]}/{t['digits'][1]}" if t["digits"][1] else None,
                # shop: turns more than half wrong; recorded: shop words it invented; no speech: any words at all
                "wrong": t["wrong"],
                "wrong_caught_by_doubt": t["wrong_doubted"],
                "right_but_doubted": t["right_doubted"],
                "samples": t["samples"],
            }
            for kind, t in tallies.items()
        }
    return report
