"""Every pipecat private member this project uses, each behind one small named function.

pipecat 1.14 has no public API for these. tests/test_pipecat_compat.py checks each one
against the installed pipecat, so an upgrade that changes them fails there, by name,
rather than as a call that quietly misbehaves. No other module touches a pipecat
private name.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import numpy as np

from pipecat.frames.frames import Frame
from pipecat.services.tts_service import TTSService
from pipecat.turns.user_turn_processor import UserTurnProcessor


async def wait_for_user(processor: UserTurnProcessor) -> None:
    """Times the caller's silence again after a turn the bot does not answer (noise, a key press).

    A caller's turn stops the processor's idle timer, and only the bot's next speech
    starts it again, so without this a caller who makes a noise, or types, and then
    says nothing would never be reprompted. UserIdleController.wait_for_user is public,
    but UserTurnProcessor keeps its controller in `_user_idle_controller` and has no
    public method that reaches it.
    """
    await processor._user_idle_controller.wait_for_user()


def wav_audio_frames(tts: TTSService, chunks: AsyncIterator[bytes], context_id: str) -> AsyncGenerator[Frame, None]:
    """A WAV arriving in chunks → TTSAudioRawFrames at the service's output rate.

    TTSService's `_stream_audio_frames_from_iterator` strips the header, reads the
    source rate from it and resamples with the service's own stream resampler, as
    pipecat's HTTP TTS services do; TTSService has no public method for it.
    """
    return tts._stream_audio_frames_from_iterator(chunks, strip_wav_header=True, context_id=context_id)


def smart_turn_features(audio: np.ndarray) -> np.ndarray:
    """8 s of 16 kHz audio → the normalised Whisper log-mel features Smart Turn v3 reads.

    pipecat vendors the feature extractor (so that it needs no `transformers`) in the
    private module `pipecat.audio.turn.smart_turn._whisper_features`; the model is only
    right with exactly these features.
    """
    from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features

    return compute_whisper_log_mel_features(audio, do_normalize=True)
