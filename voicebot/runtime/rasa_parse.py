"""Parses stdin lines with a trained Rasa model; one JSON object per line on stdout.

Runs inside the Rasa virtual environment (Python 3.10), started by voicebot.runtime.rasa_runner.parse_offline.
"""

import asyncio
import json
import logging
import sys

from voicebot.dialogue.nlu import NluParse  # the project root is on Rasa's PYTHONPATH


async def main(model_path: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    for line in sys.stdin.read().splitlines():
        result = await agent.parse_message(line)
        print(json.dumps(NluParse.from_rasa(result, text=line).to_json()), flush=True)


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    asyncio.run(main(sys.argv[1]))
