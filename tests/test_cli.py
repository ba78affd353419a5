import json
import os
import subprocess
import sys

import pytest

COMMANDS = [
    ["voicebot.cli"], ["voicebot.cli", "train"], ["voicebot.cli", "serve"], ["voicebot.cli", "chat"], ["voicebot.cli", "call"],
    ["voicebot.cli", "nlu", "parse"], ["voicebot.cli", "orders", "list"], ["voicebot.cli", "models", "prepare"],
    ["eval.cli"], ["eval.cli", "nlu"], ["eval.cli", "text-latency"], ["eval.cli", "latency"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "-m", *command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: voicebot" in result.stdout and len(result.stdout) > 200


def test_orders_list_json_seeds_a_new_database(tmp_path):
    env = {**os.environ, "VOICEBOT_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "orders", "list", "--json"], capture_output=True, text=True, env=env, check=True
    )
    orders = json.loads(result.stdout)
    assert len(orders) >= 200
    assert {"order_number", "status", "expected_delivery"} <= set(orders[0])
    assert {o["status"] for o in orders} >= {
        "pending", "paid", "packed", "shipped", "in_transit", "out_for_delivery",
        "delivered", "delayed", "exception", "cancelled", "returned", "refunded",
    }
    assert all(o["order_number"].isdigit() for o in orders)
    assert (tmp_path / "voicebot.db").exists()


def test_the_engine_runs_numpy_with_one_blas_thread_unless_told_otherwise():
    """Spinning OpenBLAS threads slowed Whisper and Rasa on 2 cores (see voicebot/__init__.py)."""
    import os
    import subprocess
    import sys

    probe = "import voicebot, os; print(os.environ['OPENBLAS_NUM_THREADS'], voicebot.OPENBLAS_THREADS_CHOSEN_BY_USER)"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout.split() == ["1", "False"]
    chosen = subprocess.run([sys.executable, "-c", probe], env={**env, "OPENBLAS_NUM_THREADS": "4"}, capture_output=True, text=True)
    assert chosen.stdout.split() == ["4", "True"]
