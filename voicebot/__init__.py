"""Offline voice phone bot and agent-assist engine for e-commerce and logistics customer service."""

__version__ = "0.1.0"

import os as _os

# One OpenBLAS thread: NumPy's BLAS (the MiniLM encoder for knowledge retrieval and
# emotion) otherwise keeps idle threads spinning after each small matrix product, which
# on a 2-core machine slowed Whisper and Rasa on the same line: `voicebot-eval latency`
# p50 855 → 723 ms with this set (dialogue stage 204 → 134 ms). Set before NumPy loads.
# Training embeds thousands of sentences in one go and wants every core: see voicebot.runtime.rasa_runner.train.
OPENBLAS_THREADS_CHOSEN_BY_USER = "OPENBLAS_NUM_THREADS" in _os.environ
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
