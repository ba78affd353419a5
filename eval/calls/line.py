"""Phone-line conditions for test calls: what a real line does to the caller's audio before the bot hears it.

Every call is band-limited to the telephone band (300–3400 Hz) as a PSTN leg and G.711
codec are; a condition can add background noise at a signal-to-noise ratio and lose
packets in bursts as a congested network does. The same seed gives the same line, so a
failing scenario can be replayed exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RATE = 8000
BAND_HZ = (300.0, 3400.0)
EDGE_HZ = 50.0  # raised-cosine roll-off inside each band edge, so the filter does not ring
PACKET_S = 0.02  # Twilio Media Streams (and most RTP) carry 20 ms of audio per packet
MEAN_BURST_PACKETS = 3.0  # a lost burst lasts 60 ms on average
FADE_S = 0.002  # audio fades out and back in around a gap instead of clicking
SPEECH_FLOOR_DB = 35.0  # frames this far below the loudest one are pauses, not speech
SNR_RANGE_DB = (0.0, 60.0)
MAX_LOSS = 0.5


@dataclass(frozen=True)
class LineCondition:
    """Background noise at `snr_db` (None: a quiet line) and a mean share `loss` of packets lost."""

    snr_db: float | None = None
    loss: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        low, high = SNR_RANGE_DB
        if self.snr_db is not None and not (low <= self.snr_db <= high):
            raise ValueError(f"snr_db must be between {low:g} and {high:g} dB (or None for no noise), not {self.snr_db}")
        if not (0.0 <= self.loss < MAX_LOSS):
            raise ValueError(f"loss is the share of packets lost, in [0, {MAX_LOSS:g}), not {self.loss}")


def degrade(pcm: np.ndarray, condition: LineCondition) -> np.ndarray:
    """8 kHz 16-bit caller audio → the same length of audio as it arrives over `condition`'s line."""
    if pcm.ndim != 1:
        raise ValueError(f"expected mono audio (one dimension), got shape {pcm.shape}")
    if pcm.size == 0:
        return pcm.astype(np.int16)
    noise_rng, loss_rng = (np.random.default_rng(seed) for seed in np.random.SeedSequence(condition.seed).spawn(2))
    audio = telephone_band(pcm.astype(np.float64))
    if condition.snr_db is not None:
        audio = audio + line_noise(audio, condition.snr_db, noise_rng)
    if condition.loss > 0:
        audio = audio * packet_gain(lost_packets(audio.size, condition.loss, loss_rng), audio.size)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def band_gain(size: int) -> np.ndarray:
    """The telephone band's gain for each bin of an rfft of `size` samples: 1 inside, 0 outside."""
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    low, high = BAND_HZ
    rise = np.clip((freqs - low) / EDGE_HZ, 0, 1)
    fall = np.clip((high - freqs) / EDGE_HZ, 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))


def telephone_band(audio: np.ndarray) -> np.ndarray:
    """Nothing below 300 Hz or above 3400 Hz, done over the whole turn at once in the frequency domain."""
    return np.fft.irfft(np.fft.rfft(audio) * band_gain(audio.size), n=audio.size)


def speech_power(audio: np.ndarray) -> float:
    """Mean power of the 20 ms frames that carry speech: the pauses must not make noise quieter."""
    frame = int(PACKET_S * RATE)
    frames = audio[: audio.size - audio.size % frame].reshape(-1, frame) if audio.size >= frame else audio.reshape(1, -1)
    power = np.mean(frames**2, axis=1)
    if power.max() == 0:
        return 0.0
    return float(power[power >= power.max() * 10 ** (-SPEECH_FLOOR_DB / 10)].mean())


def line_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise in the telephone band, `snr_db` below the speech; none under pure silence."""
    return pink_noise(audio.size, speech_power(audio) / 10 ** (snr_db / 10), rng)


def pink_noise(size: int, power: float, rng: np.random.Generator) -> np.ndarray:
    """`size` samples of pink (1/f) noise in the telephone band with mean power `power`."""
    spectrum = np.fft.rfft(rng.standard_normal(size))
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])  # equal power per octave
    noise = np.fft.irfft(spectrum * band_gain(size), n=size)
    noise_power = float(np.mean(noise**2))
    if noise_power == 0 or power == 0:
        return np.zeros(size)
    return noise * math.sqrt(power / noise_power)


def background(speech: np.ndarray, condition: LineCondition, seconds: float = 5.0) -> np.ndarray | None:
    """What `condition`'s line carries while the caller says nothing: its noise, at the level it
    has under `speech` (8 kHz int16), to loop between turns; None on a quiet line.

    A real line is never digitally silent around a noisy caller, and Silero VAD, whose state
    adapts to what it hears, misses speech that arrives with its noise out of digital silence.
    """
    if condition.snr_db is None:
        return None
    rng = np.random.default_rng(np.random.SeedSequence(condition.seed).spawn(3)[2])
    power = speech_power(telephone_band(speech.astype(np.float64))) / 10 ** (condition.snr_db / 10)
    return np.clip(np.round(pink_noise(int(seconds * RATE), power, rng)), -32768, 32767).astype(np.int16)


def lost_packets(samples: int, loss: float, rng: np.random.Generator) -> np.ndarray:
    """Which 20 ms packets are lost: a two-state Gilbert-Elliott chain whose bad state loses every packet.

    Leaving the bad state has probability 1/MEAN_BURST_PACKETS per packet; entering it is
    set so the chain spends the share `loss` of its time there, which is the mean loss.
    """
    count = math.ceil(samples / (PACKET_S * RATE))
    leave_bad = 1 / MEAN_BURST_PACKETS
    enter_bad = loss * leave_bad / (1 - loss)
    draws = rng.random(count)
    lost = np.zeros(count, dtype=bool)
    bad = rng.random() < loss  # start in the chain's stationary distribution
    for i, draw in enumerate(draws):
        lost[i] = bad
        bad = draw >= leave_bad if bad else draw < enter_bad
    return lost


def packet_gain(lost: np.ndarray, samples: int) -> np.ndarray:
    """Per-sample gain: 0 over lost packets, with short fades in the packets either side of a gap."""
    packet = int(PACKET_S * RATE)
    gain = np.repeat(~lost, packet).astype(np.float64)[:samples]
    fade = int(FADE_S * RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, fade + 1) / (fade + 1))
    for gap in np.flatnonzero(lost[1:] & ~lost[:-1]) + 1:  # the first packet of each gap
        gain[gap * packet - fade : gap * packet] *= ramp[::-1]
    for back in np.flatnonzero(lost[:-1] & ~lost[1:]) + 1:  # the first packet heard again
        gain[back * packet : back * packet + fade] *= ramp[: min(fade, samples - back * packet)]
    return gain
