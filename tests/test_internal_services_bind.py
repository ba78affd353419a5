"""Rasa, the action server and Piper are internal: they listen on loopback whatever interface the engine serves (issue 13)."""

from __future__ import annotations

import pytest

from voicebot.runtime.piper import PiperServer
from voicebot.runtime.rasa_runner import RasaProcesses, rasa_env
from voicebot.settings import Settings


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7"])
def test_the_internal_services_are_reached_and_bound_on_loopback_whatever_the_engines_host(host: str, tmp_path) -> None:
    settings = Settings(host=host, data_dir=tmp_path)
    assert all(url.startswith("http://127.0.0.1:") for url in (settings.rasa_url, settings.action_url, settings.tts_url))
    rasa = RasaProcesses(settings).children["rasa"].command()
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert rasa_env(settings)["SANIC_HOST"] == "127.0.0.1"  # the action server (rasa-sdk on Sanic)
    piper = PiperServer(settings).command()
    assert piper[piper.index("--host") + 1] == "127.0.0.1"


def test_the_engine_is_reached_on_loopback_when_it_listens_everywhere_and_on_its_address_otherwise() -> None:
    assert Settings(host="0.0.0.0", port=8123).engine_url == "http://127.0.0.1:8123"
    assert Settings(host="192.0.2.7", port=8123).engine_url == "http://192.0.2.7:8123"
