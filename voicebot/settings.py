"""One settings object for the whole engine.

Every value can be set by an environment variable with the ``VOICEBOT_`` prefix
(``VOICEBOT_PORT=9000``); the database also honours the conventional ``DATABASE_URL``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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

    host: str = Field("127.0.0.1", description="Interface the engine and its child processes listen on.")
    port: int = Field(8080, description="Engine HTTP port (health, APIs).")
    rasa_port: int = Field(5005, description="Rasa server port.")
    action_port: int = Field(5055, description="Rasa action server port.")

    nlu_dir: Path = Field(PROJECT_ROOT / "nlu", description="The Rasa project.")
    rasa_venv: Path = Field(PROJECT_ROOT / ".venv-rasa", description="Virtual environment that holds Rasa 3.6.")
    rasa_timeout_s: float = Field(10.0, description="How long one dialogue turn may wait for Rasa.")
    rasa_start_timeout_s: float = Field(240.0, description="How long `serve` waits for Rasa to load its model.")

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
    def engine_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
