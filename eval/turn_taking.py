"""`voicebot-eval turns`: does the bot wait for the caller's finished thought, and how fast does it answer?

Every item of eval/data/turns/{tuning,blind}.yaml is what a caller says, split where
they pause (between sentences, mid-sentence, after an "um", between digit groups), or
one complete turn. Each item is spoken as one utterance and opened at the word gaps
between its parts; it is voiced twice (voices and line conditions in rotation;
the blind set adds the Kokoro family no tuning run hears), with pauses of 0.5, 0.8 or
1.2 s between the parts, sent through a phone line (8 kHz μ-law, noise, packet loss)
and turned into a trace of what a call's pipeline sees, with the call's own parts:
where Silero VAD (the call's settings) reports speech start and stop, the Whisper
transcript of each VAD segment and how long it took, and Smart Turn v3.2's
probability that the turn is finished at each VAD stop.

Each turn-stop policy is then replayed over every trace on that timeline: at a VAD stop
the turn ends once the silence the policy asks for has passed and the transcript is in,
unless the VAD reports speech again first. A turn that ends at a
pause with more speech still to come is a **false cut-off** (**not rejoined** when the caller
went on later than the call's going-on window, so the call answers the first part alone);
the **response delay** is
from the end of the last speech to the end of the turn (what the dialogue and TTS then
add is the same for every policy; `voicebot-eval latency` measures it). Policies:

- `pause`: the speech timeout alone, holding 1 s longer only inside a half-read number
  (the strategy calls used before Smart Turn, as it was);
- `smart-turn`: pipecat's TurnAnalyzerUserTurnStopStrategy with LocalSmartTurnAnalyzerV3
  as shipped (finished when the model says > 0.5, else after 3 s of silence);
- `smart-turn+digits`: the engine's strategy (`voicebot.voice.turns.turn_end_wait`):
  the model's verdict, the digit hold and the unfinished-sentence words together,
  with the settings' threshold and holds. `--grid` replays other thresholds and holds.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import time
import wave
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import yaml

from eval.latency_stats import percentile
from voicebot.voice.call import GOES_ON_WITHIN_S, VAD_START_S
from voicebot.settings import PROJECT_ROOT, Settings
from voicebot.voice.turns import FILLERS

if TYPE_CHECKING:
    from voicebot.voice.turns import TurnExpectation

DATA_DIR = PROJECT_ROOT / "eval" / "data" / "turns"
RECORDED_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")  # Debian asterisk-core-sounds-en-wav, CC-BY-SA-3.0
RECORDED_TEXTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")  # asterisk-core-sounds-en
RECORDED_VOICE = "allison-recorded"
RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "turns.json"
TRACES_DIR = PROJECT_ROOT / "var" / "eval"  # traces hold the set's words: kept out of the repository
KINDS = ("complete", "between_sentences", "mid_sentence", "hesitation", "digit_groups")
ASKED_SLOTS = {  # what the bot asked → the Rasa slot it requested, which sets the digits a call expects
    "open": None, "confirm": None, "order_number": "order_number", "phone_last_four": "identity_answer",
    "zip_code": "identity_answer", "address": "new_address",
}
PAUSES_S = (0.5, 0.8, 1.2)
SET_VOICES = {
    "tuning": ("joe", "joe-slow", "espeak-us", "joe-fast", "joe-low"),
    "blind": ("kokoro-jf_alpha", "joe", "kokoro-jm_kumo", "espeak-us", "kokoro-jf_nezumi", "joe-slow"),
    "recorded": (RECORDED_VOICE,),
}
LINES = ({}, {"snr_db": 20.0, "loss": 0.02}, {"snr_db": 30.0})
LEAD_S, TAIL_S = 0.5, 4.0
FRAME_S = 0.02  # Twilio's 20 ms packets
STT_PRE_ROLL_S = 1.0  # SegmentedSTTService keeps up to 1 s of audio from before the VAD's start
STT_TRAILING_SILENCE_S = 0.5
SMART_TURN_FALLBACK_S = 3.0  # pipecat's SmartTurnParams.stop_secs
BEFORE_DIGIT_HOLD_S = 1.0  # the digit hold of the strategy before Smart Turn


@dataclass(frozen=True)
class TurnItem:
    kind: str
    asked: str
    parts: tuple[str, ...]
    recording: str | None = None  # a recorded person's WAV (the recorded set) instead of a synthetic voice


@dataclass(frozen=True)
class Pause:
    """One VAD stop: what a call's turn-stop strategy knows there."""

    stopped_at: float  # when the VAD reported the stop (audio time, s)
    transcript_at: float  # when this segment's transcript was in
    text: str  # the turn's transcripts so far
    probability: float  # Smart Turn's P(finished) over the turn's audio so far
    resumed_at: float | None  # when the VAD next reported speech, None after the last


@dataclass(frozen=True)
class Trace:
    item: TurnItem
    voice: str
    family: str
    pause_s: float
    line: str
    pauses: tuple[Pause, ...]
    speech_end: float  # the last speech's end, as the VAD places it

    @property
    def expected(self) -> "TurnExpectation":
        from voicebot.voice.call import turn_expectation

        return turn_expectation(ASKED_SLOTS[self.item.asked])


@dataclass(frozen=True)
class Policy:
    name: str
    wait: Callable[[Pause, "TurnExpectation"], float]  # silence past the VAD stop before the turn ends


@dataclass(frozen=True)
class Outcome:
    cut_off: bool
    delay_s: float | None  # None when cut off
    rejoined: bool = False  # cut off, but the caller went on soon enough for the call to answer both parts as one turn


def load_items(set_name: str) -> list[TurnItem]:
    if set_name == "recorded":
        return recorded_items()
    raw = yaml.safe_load((DATA_DIR / f"{set_name}.yaml").read_text())
    items = []
    for n, entry in enumerate(raw.get("turns") or [], 1):
        if entry.get("kind") not in KINDS or entry.get("asked") not in ASKED_SLOTS or not entry.get("parts"):
            raise ValueError(f"{set_name}.yaml item {n}: needs kind in {KINDS}, asked in {tuple(ASKED_SLOTS)} and parts")
        items.append(TurnItem(entry["kind"], entry["asked"], tuple(str(p) for p in entry["parts"])))
    return items


def recorded_items(limit: int = 60) -> list[TurnItem]:
    """Real telephone speech: Asterisk's English prompts (one speaker, 8 kHz, with their transcripts).

    Every prompt of six words or more that ends a sentence gives two items: the whole
    prompt (complete) and the prompt split at its middle word (mid-sentence), so the
    part before the pause has the unfinished intonation of a person still speaking.
    """
    if not RECORDED_TEXTS.exists():
        raise SystemExit(
            "The recorded set needs Debian's asterisk-core-sounds-en-wav and asterisk-core-sounds-en "
            "(apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-en)"
        )
    items = []
    for line in gzip.open(RECORDED_TEXTS, "rt").read().splitlines():
        name, _, text = line.partition(": ")
        words = text.split()
        wav = RECORDED_DIR / f"{name}.wav"
        if len(words) >= 6 and text.endswith((".", "?")) and "..." not in text and not text.startswith("[") and wav.exists():
            half = len(words) // 2
            items += [
                TurnItem("complete", "open", (text,), str(wav)),
                TurnItem("mid_sentence", "open", (" ".join(words[:half]), " ".join(words[half:])), str(wav)),
            ]
        if len(items) >= 2 * limit:
            break
    return items


# --- the policies ----------------------------------------------------------------------


def replay(trace: Trace, policy: Policy) -> Outcome:
    """Where `policy` ends the turn on `trace`'s timeline (see the module docstring)."""
    for n, pause in enumerate(trace.pauses):
        ends = max(pause.stopped_at + policy.wait(pause, trace.expected), pause.transcript_at)
        if pause.resumed_at is not None and pause.resumed_at <= ends:
            continue  # the caller went on before the turn ended
        if n < len(trace.pauses) - 1:
            # The call answers both parts as one when the caller goes on within GOES_ON_WITHIN_S of the turn's
            # end (voicebot.voice.call; its other window, early in the bot's answer, is not counted here).
            began = pause.resumed_at - VAD_START_S if pause.resumed_at is not None else None
            return Outcome(True, None, rejoined=began is not None and began - ends <= GOES_ON_WITHIN_S)
        return Outcome(False, ends - trace.speech_end)
    return Outcome(False, None)


def policies(settings: Settings, grid: bool) -> list[Policy]:
    from voicebot.voice.turns import TurnEndRule, turn_end_wait, unfinished_number

    def engine(rule: TurnEndRule) -> Callable[[Pause, TurnExpectation], float]:
        return lambda pause, expected: turn_end_wait(pause.text, pause.probability, expected, rule)

    def before(pause: Pause, expected: TurnExpectation) -> float:
        """The strategy before Smart Turn: the speech timeout, 1 s more inside a half-read number (6 digits but for the last four)."""
        digits = 4 if expected.digits == 4 else 6
        return settings.user_speech_timeout_s + (BEFORE_DIGIT_HOLD_S if unfinished_number(pause.text, digits) else 0.0)

    chosen = TurnEndRule.from_settings(settings.model_copy(update={"turn_detector": "smart-turn"}))
    found = [
        Policy("pause", before),
        Policy("smart-turn", lambda pause, _: 0.0 if pause.probability > 0.5 else SMART_TURN_FALLBACK_S),
        Policy("smart-turn+digits", engine(chosen)),
    ]
    if grid:
        for threshold, hold, digit_hold in itertools.product((0.3, 0.5, 0.7), (0.8, 1.0, 1.3), (1.0, 1.3, 1.6)):
            rule = replace(chosen, complete_threshold=threshold, incomplete_hold_s=hold, digit_hold_s=digit_hold)
            found.append(Policy(f"threshold {threshold:g}, hold {hold:g} s, digits {digit_hold:g} s", engine(rule)))
        for pause_s in (0.3, 0.5):
            found.append(Policy(f"pause {pause_s:g} s, otherwise as chosen", engine(replace(chosen, pause_s=pause_s))))
        found.append(Policy("model only (no word rules)", engine(replace(chosen, word_rules=False))))
    return found


# --- the traces ------------------------------------------------------------------------


def voiced(item: TurnItem, voice: str, pause_s: float, line: dict, seed: int, tts_url: str, whisper) -> np.ndarray:
    """The item spoken in `voice` as one utterance, opened by `pause_s` between its parts, over the phone: 16 kHz float32.

    Spoken in one piece, a part that stops mid-sentence keeps the rising, unfinished
    intonation a caller has when they pause there; voicing the parts one by one would
    give each a sentence's falling end and teach nothing about "I want to …".
    """
    import soxr

    from eval.calls.line import LineCondition, degrade
    from eval.calls.voices import synthesise
    from voicebot.telephony.twilio.caller import lin2ulaw, ulaw2lin

    if item.recording:
        with wave.open(item.recording) as recorded:
            rate = recorded.getframerate()
            audio = np.frombuffer(recorded.readframes(recorded.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    else:
        audio, rate = synthesise(voice, " ".join(item.parts), tts_url)
    speech = trim_silence(soxr.resample(audio.astype(np.float32), rate, 8000))
    pieces, start = [np.zeros(int(LEAD_S * 8000), dtype=np.float32)], 0
    for cut in part_boundaries(speech, item.parts, whisper):
        pieces += [speech[start:cut], np.zeros(int(pause_s * 8000), dtype=np.float32)]
        start = cut
    pieces += [speech[start:], np.zeros(int(TAIL_S * 8000), dtype=np.float32)]
    pcm = (np.clip(np.concatenate(pieces), -1, 1) * 32767).round().astype(np.int16)
    pcm = degrade(pcm, LineCondition(snr_db=line.get("snr_db"), loss=line.get("loss", 0.0), seed=seed))
    return soxr.resample(ulaw2lin(lin2ulaw(pcm)).astype(np.float32) / 32768.0, 8000, 16000).astype(np.float32)


def part_boundaries(speech: np.ndarray, parts: tuple[str, ...], whisper, rate: int = 8000) -> list[int]:
    """Sample index in `speech` where each part after the first begins.

    At a gap between two of the words Whisper's word timestamps find: the gap after
    as many spoken words as the parts before hold (a "112" Whisper writes counts as
    the three words "one one two"; the "um"s it leaves out do not count), traded
    against nearness to the parts' share of the letters (one word off = 0.4 s off).
    """
    import soxr

    if len(parts) < 2:
        return []
    segments, _ = whisper.transcribe(
        soxr.resample(speech, rate, 16000).astype(np.float32), language="en", beam_size=1, word_timestamps=True,
        condition_on_previous_text=False, vad_filter=False, temperature=0.0,
    )
    words = [w for segment in segments for w in (segment.words or [])]
    spoken = np.cumsum([spoken_words(w.word) for w in words])
    letters = np.cumsum([len(p.replace(" ", "")) for p in parts])
    cuts, after = [], -1
    for n in range(len(parts) - 1):
        target = sum(w.strip(",.?!").lower() not in FILLERS for w in " ".join(parts[: n + 1]).split())  # Whisper drops "um"
        share = speech.size / rate * letters[n] / letters[-1]
        gaps = [(abs(spoken[i] - target) + abs((words[i].end + words[i + 1].start) / 2 - share) / 0.4, i) for i in range(after + 1, len(words) - 1)]
        if not gaps:
            cuts.append(int(share * rate))
            continue
        _, after = min(gaps)
        cuts.append(int((words[after].end + words[after + 1].start) / 2 * rate))
    return cuts


def spoken_words(token: str) -> int:
    """How many words a Whisper token stands for: a digit string is read digit by digit."""
    digits = sum(c.isdigit() for c in token)
    return digits if digits and not any(c.isalpha() for c in token) else 1


def trim_silence(audio: np.ndarray, rate: int = 8000, floor_db: float = 40.0) -> np.ndarray:
    """Speech without the synthesiser's own leading and trailing silence (10 ms frames > floor below peak)."""
    frame = rate // 100
    frames = audio[: audio.size // frame * frame].reshape(-1, frame)
    if frames.size == 0:
        return audio
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    loud = np.flatnonzero(level > level.max() - floor_db)
    return audio[loud[0] * frame : (loud[-1] + 1) * frame]


async def vad_segments(audio: np.ndarray, settings: Settings) -> list[tuple[float, float]]:
    """(start reported, stop reported) times of each speech segment, from the call's own VAD (`caller_vad`)."""
    from pipecat.audio.vad.vad_analyzer import VADState

    from voicebot.voice.vad import caller_vad

    vad = caller_vad(settings)
    vad.set_sample_rate(16000)
    step = int(FRAME_S * 16000)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    segments, started, previous = [], None, VADState.QUIET
    for n in range(0, pcm.size - step + 1, step):
        state = await vad.analyze_audio(pcm[n : n + step].tobytes())
        now = (n + step) / 16000
        if state == VADState.SPEAKING and previous != VADState.SPEAKING and started is None:
            started = now
        elif state == VADState.QUIET and previous != VADState.QUIET and started is not None:
            segments.append((started, now))
            started = None
        previous = state
    return segments


def trace(item: TurnItem, voice: str, pause_s: float, line: dict, audio: np.ndarray, whisper, turn_model, settings: Settings) -> Trace:
    from eval.calls.voices import VOICES
    from voicebot.voice.turns import TURN_AUDIO_PRE_ROLL_S
    from voicebot.voice.whisper import transcribe_turn

    segments = asyncio.run(vad_segments(audio, settings))
    pauses, heard, transcript_free = [], [], 0.0
    for n, (start, stop) in enumerate(segments):
        clip_start = max(0.0, start - STT_PRE_ROLL_S, segments[n - 1][1] if n else 0.0)  # its buffer empties at each stop
        clip = audio[int(clip_start * 16000) : int(stop * 16000)]
        clip = np.concatenate([clip, np.zeros(int(STT_TRAILING_SILENCE_S * 16000), dtype=np.float32)])
        began = time.perf_counter()
        text = transcribe_turn(whisper, clip, beam_size=settings.whisper_beam_size, initial_prompt=settings.whisper_initial_prompt or None).text
        took = time.perf_counter() - began
        transcript_free = max(stop, transcript_free) + took  # one transcription at a time, in order
        if text:
            heard.append(text)
        turn_audio = audio[int(max(0.0, segments[0][0] - TURN_AUDIO_PRE_ROLL_S) * 16000) : int(stop * 16000)]
        resumed = segments[n + 1][0] if n + 1 < len(segments) else None
        pauses.append(Pause(stop, transcript_free, " ".join(heard), turn_model.probability(turn_audio), resumed))
    return Trace(
        item=item, voice=voice, family="recorded" if item.recording else VOICES[voice].family, pause_s=pause_s,
        line=line_name(line),
        pauses=tuple(pauses), speech_end=segments[-1][1] - settings.vad_stop_secs if segments else 0.0,
    )


def line_name(line: dict) -> str:
    if not line:
        return "clean"
    return ", ".join(f"{k.replace('_db', '')} {v:g}" for k, v in sorted(line.items()))


def recordings(items: list[TurnItem], set_name: str) -> list[tuple[TurnItem, str, float, dict, int]]:
    """Two recordings per item: voices, pauses and lines in rotation (deterministic)."""
    voices = SET_VOICES[set_name]
    plan = []
    for n, item in enumerate(items):
        for k in range(1 if item.recording else 2):  # a recording is one take
            i = 2 * n + k
            plan.append((item, voices[i % len(voices)], PAUSES_S[(n + k) % len(PAUSES_S)], LINES[i % len(LINES)], i))
    return plan


# --- the report ------------------------------------------------------------------------


def summary(outcomes: list[tuple[Trace, Outcome]]) -> dict:
    multi = [(t, o) for t, o in outcomes if len(t.item.parts) > 1]
    delays = [o.delay_s * 1000 for _, o in outcomes if o.delay_s is not None]
    complete = [o.delay_s * 1000 for t, o in outcomes if o.delay_s is not None and t.item.kind == "complete"]
    return {
        "recordings": len(outcomes),
        "false_cut_offs": sum(o.cut_off for _, o in outcomes),
        "cut_offs_left": sum(o.cut_off and not o.rejoined for _, o in outcomes),  # not rejoined by the call's going-on rule
        "cut_off_rate_paused": round(sum(o.cut_off for _, o in multi) / len(multi), 3) if multi else None,
        "cut_off_rate_complete": round(
            sum(o.cut_off for t, o in outcomes if t.item.kind == "complete") / max(1, sum(t.item.kind == "complete" for t, _ in outcomes)), 3
        ),
        "delay_p50_ms": round(percentile(delays, 50)) if delays else None,
        "delay_p95_ms": round(percentile(delays, 95)) if delays else None,
        "complete_delay_p50_ms": round(percentile(complete, 50)) if complete else None,
        "complete_delay_p95_ms": round(percentile(complete, 95)) if complete else None,
    }


def smart_turn_separation(traces: list[Trace]) -> dict[str, float | None]:
    """Per voice family: P(Smart Turn scores a turn's last pause above a pause inside a thought), the AUC.

    Inside a thought: the earlier pauses of mid-sentence, hesitation and digit-group items
    (a pause between two sentences may rightly sound finished).
    """
    families: dict[str, tuple[list[float], list[float]]] = {}
    for t in traces:
        final, inside = families.setdefault(t.family, ([], []))
        if t.pauses:
            final.append(t.pauses[-1].probability)
        if t.item.kind in ("mid_sentence", "hesitation", "digit_groups"):
            inside += [pause.probability for pause in t.pauses[:-1]]
    return {
        family: round(float(np.mean([(f > m) + 0.5 * (f == m) for f in final for m in inside])), 3) if final and inside else None
        for family, (final, inside) in sorted(families.items())
    }


def grouped(outcomes: list[tuple[Trace, Outcome]], key: Callable[[Trace], str]) -> dict[str, dict]:
    groups: dict[str, list] = {}
    for pair in outcomes:
        groups.setdefault(key(pair[0]), []).append(pair)
    return {name: summary(pairs) for name, pairs in sorted(groups.items())}


def traced(items: list[TurnItem], set_name: str, settings: Settings, echo: Callable[[str], None]) -> list[Trace]:
    """Voices every recording of the set and traces it (minutes: Piper, Whisper and Smart Turn on every clip)."""
    from eval.calls.voices import piper_for_voicing
    from voicebot.runtime.models import load_whisper
    from voicebot.voice.smart_turn import TurnCompletionModel

    plan = recordings(items, set_name)
    whisper = load_whisper(settings, echo=echo)  # also finds the word boundaries where the pauses go
    synthetic = any(item.recording is None for item in items)
    with piper_for_voicing(settings, needed=synthetic, echo=echo):
        echo(f"Voicing {len(plan)} recordings of {len(items)} {set_name} items ({', '.join(SET_VOICES[set_name])}) ...")
        audio = [voiced(item, voice, pause, line, seed, settings.tts_url, whisper) for item, voice, pause, line, seed in plan]
    turn_model = TurnCompletionModel()
    echo(f"Tracing VAD, Whisper and Smart Turn over {len(plan)} recordings ...")
    traces = []
    for n, ((item, voice, pause, line, _), clip) in enumerate(zip(plan, audio), 1):
        traces.append(trace(item, voice, pause, line, clip, whisper, turn_model, settings))
        if n % 20 == 0:
            echo(f"  {n}/{len(plan)}")
    return traces


def save_traces(traces: list[Trace], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(t) for t in traces]))


def load_traces(path: Path) -> list[Trace]:
    def rebuilt(raw: dict) -> Trace:
        item = TurnItem(**{**raw["item"], "parts": tuple(raw["item"]["parts"])})
        fields = {k: v for k, v in raw.items() if k in Trace.__dataclass_fields__}
        return Trace(**{**fields, "item": item, "pauses": tuple(Pause(**p) for p in raw["pauses"])})

    return [rebuilt(raw) for raw in json.loads(path.read_text())]


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    items = load_items(args.set)
    cache = TRACES_DIR / f"turn_traces_{args.set}.json"
    if args.reuse_traces:
        if not cache.exists():
            raise SystemExit(f"{cache.relative_to(PROJECT_ROOT)} does not exist yet: run voicebot-eval turns --set {args.set} once first")
        traces = load_traces(cache)
        echo(f"Replaying on {len(traces)} saved traces from {cache.relative_to(PROJECT_ROOT)}")
    else:
        traces = traced(items, args.set, settings, echo)
        save_traces(traces, cache)
    report = {
        "set": args.set, "items": len(items), "recordings": len(traces),
        "smart_turn_auc": smart_turn_separation(traces), "policies": {},
    }
    for policy in policies(settings, args.grid):
        outcomes = [(t, replay(t, policy)) for t in traces]
        report["policies"][policy.name] = {
            "all": summary(outcomes),
            "by_kind": grouped(outcomes, lambda t: t.item.kind),
            "by_pause": grouped([p for p in outcomes if len(p[0].item.parts) > 1], lambda t: f"{t.pause_s:g} s"),
            "by_family": grouped(outcomes, lambda t: t.family),
            "by_line": grouped(outcomes, lambda t: t.line),
        }
        if args.set != "blind":  # the blind set's words are never printed
            report["policies"][policy.name]["cut_offs"] = [
                {"parts": list(t.item.parts), "voice": t.voice, "pause_s": t.pause_s, "heard": [p.text for p in t.pauses],
                 "probabilities": [round(p.probability, 3) for p in t.pauses]}
                for t, o in outcomes if o.cut_off
            ]
    report["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    results = RESULTS_FILE.with_name(f"turns_{args.set}.json")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps({name: {k: v for k, v in p.items() if k != "cut_offs"} for name, p in report["policies"].items()}, indent=2))
        return 0
    print(f"{args.set}: {len(traces)} recordings of {len(items)} items")
    print(f"{'policy':32s} {'cut-offs':>9s} {'not rejoined':>12s} {'paused cut':>10s} {'delay p50':>9s} {'p95':>6s} {'complete p50':>12s} {'p95':>6s}")
    for name, result in report["policies"].items():
        a = result["all"]
        print(f"{name:32s} {a['false_cut_offs']:>9d} {a['cut_offs_left']:>12d} {a['cut_off_rate_paused']:>10.1%} {a['delay_p50_ms']:>7d}ms {a['delay_p95_ms']:>4d}ms {a['complete_delay_p50_ms']:>10d}ms {a['complete_delay_p95_ms']:>4d}ms")
    for name in ("pause", "smart-turn+digits"):
        result = report["policies"][name]
        for group in ("by_kind", "by_pause", "by_family", "by_line"):
            cells = ", ".join(
                f"{k} {v['false_cut_offs']}/{v['recordings']} cut, {v['delay_p50_ms']} ms" for k, v in result[group].items()
            )
            print(f"  {name} {group[3:]}: {cells}")
    print("Smart Turn AUC, a turn's last pause against a pause inside a thought: " + ", ".join(f"{k} {v}" for k, v in report["smart_turn_auc"].items()))
    echo(f"Results written to {results.relative_to(PROJECT_ROOT)}")
    return 0
