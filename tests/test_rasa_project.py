"""Rasa's own checks on the project: validation and the test stories."""

import subprocess

import pytest

from voicebot.runtime.rasa_runner import rasa_env, rasa_executable, train
from voicebot.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return Settings(data_dir=tmp_path_factory.mktemp("rasa"))


def test_data_validates_without_warnings(settings):
    result = subprocess.run(
        [str(rasa_executable(settings)), "data", "validate", "--fail-on-warnings"],
        cwd=settings.nlu_dir, env=rasa_env(settings), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_test_story_passes(settings, tmp_path):
    model = train(settings)
    result = subprocess.run(
        [
            str(rasa_executable(settings)), "test", "core", "--model", str(model),
            "--stories", "tests/test_stories.yml", "--out", str(tmp_path), "--fail-on-prediction-errors",
        ],
        cwd=settings.nlu_dir, env=rasa_env(settings), capture_output=True, text=True,
    )
    report = tmp_path / "failed_test_stories.yml"
    assert report.exists(), f"rasa test wrote no {report.name}: {result.stderr[-3000:]}"
    failed = report.read_text()
    assert result.returncode == 0, failed[-4000:] or result.stderr[-3000:]
    assert "None of the test stories failed" in failed, failed[-4000:]
