"""Whisper base is joined from the two data packages once, verified, and rebuilt if damaged."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from voicebot.runtime.models import (
    WHISPER_BASE_SHA256,
    WHISPER_BASE_SIZE,
    ModelError,
    piper_voice_path,
    prepare_whisper,
)
from voicebot.settings import Settings


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, list[str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("speech"), whisper_model="base")
    lines: list[str] = []
    folder = prepare_whisper(settings, echo=lines.append)
    return settings, folder, lines


def test_joins_the_parts_into_the_published_model(prepared) -> None:
    settings, folder, lines = prepared
    assert folder == settings.models_dir / "whisper-base"
    model = folder / "model.bin"
    assert model.stat().st_size == WHISPER_BASE_SIZE
    assert sha256(model) == WHISPER_BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / name).is_file()
    assert [line for line in lines if "%" in line][-1].split(":")[1].strip().startswith("100 %")
    assert not list(folder.glob("*.tmp-*"))


def test_second_call_is_instant_and_leaves_the_file_alone(prepared) -> None:
    settings, folder, _ = prepared
    before = (folder / "model.bin").stat().st_mtime_ns
    lines: list[str] = []
    started = time.monotonic()
    assert prepare_whisper(settings, echo=lines.append) == folder
    assert time.monotonic() - started < 0.2
    assert lines == []
    assert (folder / "model.bin").stat().st_mtime_ns == before


def test_truncated_model_is_detected_and_rebuilt(prepared) -> None:
    settings, folder, _ = prepared
    with open(folder / "model.bin", "r+b") as file:
        file.truncate(1000)
    lines: list[str] = []
    prepare_whisper(settings, echo=lines.append)
    assert lines, "a damaged model must be rebuilt, not silently accepted"
    assert (folder / "model.bin").stat().st_size == WHISPER_BASE_SIZE
    assert sha256(folder / "model.bin") == WHISPER_BASE_SHA256


def test_missing_custom_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-whisper"
    with pytest.raises(ModelError, match=str(missing)):
        prepare_whisper(Settings(data_dir=tmp_path, whisper_model=str(missing)))


def test_custom_path_without_model_bin_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="model.bin"):
        prepare_whisper(Settings(data_dir=tmp_path / "data", whisper_model=str(tmp_path)))


def test_custom_path_is_used_as_is(prepared) -> None:
    _, folder, _ = prepared
    assert prepare_whisper(Settings(whisper_model=str(folder)), echo=lambda _: None) == folder


def test_missing_piper_venv_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make setup"):
        piper_voice_path(Settings(data_dir=tmp_path, piper_venv=tmp_path / "no-venv"))


def test_custom_piper_voice_needs_its_json(tmp_path: Path) -> None:
    voice = tmp_path / "voice.onnx"
    voice.write_bytes(b"")
    with pytest.raises(ModelError, match="voice.onnx.json"):
        piper_voice_path(Settings(data_dir=tmp_path, piper_voice=voice))
    Path(f"{voice}.json").write_text("{}")
    assert piper_voice_path(Settings(data_dir=tmp_path, piper_voice=voice)) == voice
