"""Smart Turn v3.2: does the caller's speech so far sound like a finished turn?

Pipecat's wheel ships the model (smart-turn-v3.2-cpu.onnx, BSD-2-Clause): a Whisper-tiny
encoder over the last 8 s of the turn's audio, trained on where people stop talking
(intonation, a trailing "and", a half-read number) rather than on silence. One
onnxruntime session serves every call in the process (`run` is thread-safe); pipecat's
LocalSmartTurnAnalyzerV3 would load a copy per call. `turns.turn_end_wait` decides
what the probability means for the turn.

`judge` runs the model in one worker thread of lowered priority: on two cores shared
by several calls, Whisper and the dialogue (the turn's critical path) come first, and
a verdict that is not in when the transcript is does not hold the turn up.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort

from voicebot.voice.compat import smart_turn_features

MODEL_RATE = 16000
WINDOW_S = 8  # the model reads exactly the last 8 s, zero-padded in front
PACKAGE, MODEL_FILE = "pipecat.audio.turn.smart_turn.data", "smart-turn-v3.2-cpu.onnx"
WORKER_NICENESS = 10  # below the threads that transcribe and answer

logger = logging.getLogger(__name__)


def _lower_priority() -> None:
    """Runs once in the model's worker thread (Linux: a thread has its own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
    except (OSError, AttributeError) as error:  # another platform: same priority, still correct
        logger.debug("Smart Turn worker keeps its priority: %s", error)


class TurnCompletionModel:
    """P(the caller has finished their turn) from 16 kHz audio of the turn so far."""

    def __init__(self, path: str | None = None, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads  # one core: Whisper decodes on the other meanwhile
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(path or str(importlib.resources.files(PACKAGE) / MODEL_FILE), sess_options=options)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smart-turn", initializer=_lower_priority)

    async def judge(self, audio: np.ndarray) -> float:
        """`probability` in the model's low-priority worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, self.probability, audio)

    def probability(self, audio: np.ndarray) -> float:
        """`audio`: float32 mono at 16 kHz, ending where the caller paused. Blocking (~40 ms)."""
        window = WINDOW_S * MODEL_RATE
        audio = np.asarray(audio, dtype=np.float32)[-window:]
        if audio.size < window:
            audio = np.pad(audio, (window - audio.size, 0))
        features = smart_turn_features(audio)[np.newaxis]
        (output,) = self._session.run(None, {"input_features": features})[:1]
        return float(np.asarray(output).reshape(-1)[0])
