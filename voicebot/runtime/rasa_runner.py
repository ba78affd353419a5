"""Running Rasa from the engine: its own virtual environment, as child processes.

Rasa 3.6 pins TensorFlow 2.12, numpy<1.25 and pydantic 1, which clash with the
engine, so Rasa and its action server live in `.venv-rasa` and are driven here
the standard way: `rasa train`, `rasa run --enable-api` and the rasa-sdk action server, each of the two
servers behind its own token (`rasa_serve.py`, `action_serve.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx

from voicebot import OPENBLAS_THREADS_CHOSEN_BY_USER
from voicebot.credentials import ACTION_TOKEN, RASA_TOKEN, SERVICE_TOKEN, deployment_secret
from voicebot.dialogue.nlu import NluParse
from voicebot.runtime.console import echo
from voicebot.runtime.supervisor import ChildProcess, wait_ready
from voicebot.settings import LOOPBACK, PROJECT_ROOT, Settings

# What a trained model depends on; a change to any of these needs a new model.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "components")
FINGERPRINT_FILE = "voicebot-fingerprint.json"


class RasaError(RuntimeError):
    """Rasa is missing, failed to train, or did not come up."""


def rasa_env(settings: Settings) -> dict[str, str]:
    """Environment for every Rasa process: loopback only, no telemetry, our components importable,
    the tokens of the engine's API, of Rasa's and of the action server's."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        PYTHONPATH=os.pathsep.join([str(settings.nlu_dir), str(PROJECT_ROOT)]),  # components, knowledge.encoder
        SANIC_HOST=LOOPBACK,  # the action server: internal, whatever the engine's interface
        ACTION_SERVER_URL=f"{settings.action_url}/webhook",
        VOICEBOT_ENGINE_API_URL=f"{settings.engine_url}/api/v1",
        VOICEBOT_ENGINE_TOKEN=deployment_secret(settings, SERVICE_TOKEN),
        VOICEBOT_RASA_TOKEN=deployment_secret(settings, RASA_TOKEN),
        VOICEBOT_ACTION_TOKEN=deployment_secret(settings, ACTION_TOKEN),
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        HF_HUB_OFFLINE="1",
        VOICEBOT_MODELS_DIR=str(settings.models_dir),  # where the intent classifier finds all-mpnet-base-v2
    )
    return env


def rasa_executable(settings: Settings, name: str = "rasa") -> Path:
    path = settings.rasa_venv / "bin" / name
    if not path.exists():
        raise RasaError(f"{path} not found: run `make setup` to create the Rasa environment.")
    return path


def project_fingerprint(nlu_dir: Path) -> str:
    """Hash of everything training reads, so unchanged data never retrains."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        root = nlu_dir / name
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(nlu_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def latest_model(nlu_dir: Path) -> Path | None:
    models = sorted((nlu_dir / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def model_is_current(settings: Settings) -> Path | None:
    """The trained model for the project as it is now, or None if training is needed."""
    stamp = settings.nlu_dir / "models" / FINGERPRINT_FILE
    if not stamp.exists():
        return None
    recorded = json.loads(stamp.read_text())
    model = settings.nlu_dir / "models" / recorded.get("model", "")
    if recorded.get("fingerprint") == project_fingerprint(settings.nlu_dir) and model.is_file():
        return model
    return None


def prepare_intent_models(settings: Settings, echo: Callable[[str], None] = print) -> None:
    """all-mpnet-base-v2 in the models folder Rasa is told of (VOICEBOT_MODELS_DIR): the intent
    classifier's second opinion (nlu/config.yml) both trains and parses with it."""
    from voicebot.runtime.models import ModelError, prepare_mpnet

    try:
        prepare_mpnet(settings, echo=echo)
    except ModelError as error:
        raise RasaError(str(error)) from error


def train(settings: Settings, force: bool = False, echo: Callable[[str], None] = print) -> Path:
    """Trains the Rasa model if the project changed since the last training; returns the model
    (with the models it loads prepared: whoever gets it next may run it)."""
    prepare_intent_models(settings, echo)
    if not force and (model := model_is_current(settings)):
        echo(f"Model is up to date: {model.relative_to(settings.nlu_dir)} (use --force to retrain).")
        return model
    echo("Training the Rasa model (NLU embeddings are cached; the first run embeds ~20k sentences twice: ~10 min)...")
    started = time.monotonic()
    command = [str(rasa_executable(settings)), "train", "--fixed-model-name", f"voicebot-{int(time.time())}"]
    env = rasa_env(settings)
    if not OPENBLAS_THREADS_CHOSEN_BY_USER:
        env.pop("OPENBLAS_NUM_THREADS", None)  # batch embedding of the training data: all cores
    result = subprocess.run(command, cwd=settings.nlu_dir, env=env)
    model = latest_model(settings.nlu_dir)
    if result.returncode != 0 or model is None:
        raise RasaError(f"rasa train failed with exit code {result.returncode}")
    stamp = settings.nlu_dir / "models" / FINGERPRINT_FILE
    stamp.write_text(json.dumps({"fingerprint": project_fingerprint(settings.nlu_dir), "model": model.name}))
    echo(f"Trained {model.relative_to(settings.nlu_dir)} in {time.monotonic() - started:.0f} s.")
    return model


class RasaProcesses:
    """The Rasa server and the action server as supervised child processes."""

    def __init__(self, settings: Settings) -> None:
        s = self.settings = settings
        self.model: Path | None = None
        logs = settings.data_dir / "logs"

        def child(name: str, label: str, command: Callable[[], list[str]], health_url: str, is_ready, **kw) -> ChildProcess:
            return ChildProcess(
                name=name, label=label, command=command, cwd=lambda: s.nlu_dir, env=lambda: rasa_env(s),
                log_path=logs / f"{name}.log", health_url=health_url, is_ready=is_ready, **kw,
            )

        def python() -> str:
            return str(rasa_executable(s, "python"))

        here = Path(__file__).parent
        self.children = {
            "action_server": child(
                "action_server", "action server",
                lambda: [python(), str(here / "action_serve.py"), str(s.action_port), "actions"],
                f"{s.action_url}/health", lambda body: body.get("status") == "ok",
            ),
            "rasa": child(
                "rasa", "Rasa server",
                lambda: [
                    python(), str(here / "rasa_serve.py"), "--enable-api", "--interface", LOOPBACK, "--port", str(s.rasa_port),
                    "--model", str(self.model), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                ],
                f"{s.rasa_url}/status", lambda body: bool(body.get("model_file")),
                health_params={"token": deployment_secret(s, RASA_TOKEN)},
            ),
        }

    def start(self, model: Path) -> None:
        prepare_intent_models(self.settings, echo)
        self.model = model
        for child in self.children.values():
            child.start()

    def restart_dead(self) -> list[str]:
        """Brings crashed children back; returns the names restarted."""
        return [name for name, child in self.children.items() if child.restart_if_dead()]

    def restart_stuck(self) -> list[str]:
        """Restarts children alive but no longer serving (Rasa without its model); returns their names."""
        return [name for name, child in self.children.items() if child.restart_if_stuck()]

    def wait_ready(self, timeout_s: float, echo: Callable[[str], None] = print) -> None:
        """Waits until Rasa has loaded its model and the action server answers."""
        wait_ready(self.children.values(), timeout_s, RasaError, echo, slow_note=" (loading the model takes 15-40 s)")

    def stop(self) -> None:
        for child in self.children.values():
            child.stop()


def parse_offline(settings: Settings, texts: list[str], model: Path) -> list[dict]:
    """Parses texts with a trained model in a one-off Rasa process (no server needed)."""
    script = Path(__file__).with_name("rasa_parse.py")
    result = subprocess.run(
        [str(rasa_executable(settings, "python")), str(script), str(model)],
        input="\n".join(texts) + "\n", capture_output=True, text=True, cwd=settings.nlu_dir, env=rasa_env(settings),
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise RasaError(f"parsing failed with exit code {result.returncode}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def parse_texts(settings: Settings, texts: list[str]) -> list[dict]:
    """Parses with the running Rasa server if there is one, else with the trained model offline (`NluParse` JSON)."""
    try:
        with httpx.Client(base_url=settings.rasa_url, params={"token": deployment_secret(settings, RASA_TOKEN)}, timeout=10) as client:
            if client.get("/status").json().get("model_file"):
                return [
                    NluParse.from_rasa(client.post("/model/parse", json={"text": text}).json(), text=text).to_json()
                    for text in texts
                ]
    except (httpx.HTTPError, ValueError):
        pass
    model = latest_model(settings.nlu_dir)
    if model is None:
        raise RasaError("no trained model: run `voicebot train` first")
    echo(f"Loading {model.name} (no Rasa server running) ...")
    return parse_offline(settings, texts, model)
