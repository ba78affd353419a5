"""Smart Turn v3.2: does the caller's speech so far sound like a finished turn?

Pipecat's wheel ships the model (smart-turn-v3.2-cpu.onnx, BSD-2-Clause): a Whisper-tiny
encoder over the last 8 s of the turn's audio, trained on where people stop talking
(intonation, a trailing "and", a half-read number) rather than on silence. One
onnxruntime session serves every call in the process (`run` is thread-safe); pipecat's
LocalSmartTurnAnalyzerV3 would load a copy per call. `turns.turn_end_hold` decides
what the probability means for the turn.
"""

from __future__ import annotations

import importlib.resources

import numpy as np
import onnxruntime as ort

from voicebot.voice.compat import smart_turn_features

MODEL_RATE = 16000
WINDOW_S = 8  # the model reads exactly the last 8 s, zero-padded in front
PACKAGE, MODEL_FILE = "pipecat.audio.turn.smart_turn.data", "smart-turn-v3.2-cpu.onnx"


class TurnCompletionModel:
    """P(the caller has finished their turn) from 16 kHz audio of the turn so far."""

    def __init__(self, path: str | None = None, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads  # one core: Whisper decodes on the other meanwhile
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(path or str(importlib.resources.files(PACKAGE) / MODEL_FILE), sess_options=options)

    def probability(self, audio: np.ndarray) -> float:
        """`audio`: float32 mono at 16 kHz, ending where the caller paused. Blocking (~40 ms)."""
        window = WINDOW_S * MODEL_RATE
        audio = np.asarray(audio, dtype=np.float32)[-window:]
        if audio.size < window:
            audio = np.pad(audio, (window - audio.size, 0))
        features = smart_turn_features(audio)[np.newaxis]
        (output,) = self._session.run(None, {"input_features": features})[:1]
        return float(np.asarray(output).reshape(-1)[0])
