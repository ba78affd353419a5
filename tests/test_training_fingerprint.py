import shutil

from voicebot.runtime.rasa_runner import project_fingerprint
from voicebot.settings import PROJECT_ROOT


def test_fingerprint_changes_with_training_data_only(tmp_path):
    project = tmp_path / "nlu"
    shutil.copytree(PROJECT_ROOT / "nlu", project, ignore=shutil.ignore_patterns("models", ".rasa", "__pycache__", "results"))
    before = project_fingerprint(project)
    (project / "actions" / "prompts.py").write_text("CHANGED = 1\n")  # actions do not need retraining
    assert project_fingerprint(project) == before
    with (project / "data" / "nlu" / "callers.yml").open("a") as data:
        data.write("    - where on earth is my parcel\n")
    assert project_fingerprint(project) != before
