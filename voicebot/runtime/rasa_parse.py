"""Parses stdin lines with a trained Rasa model; one JSON object per line on stdout.

Runs inside the Rasa virtual environment (Python 3.10), started by voicebot.runtime.rasa.
"""

import asyncio
import json
import logging
import sys


async def main(model_path: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    for line in sys.stdin.read().splitlines():
        result = await agent.parse_message(line)
        intent = result.get("intent") or {}
        print(
            json.dumps(
                {
                    "text": line,
                    "intent": intent.get("name"),
                    "confidence": round(float(intent.get("confidence") or 0.0), 4),
                    "entities": [
                        {k: e.get(k) for k in ("entity", "value", "start", "end")} for e in result.get("entities", [])
                    ],
                    "intent_ranking": [
                        {"name": r["name"], "confidence": round(float(r["confidence"]), 4)}
                        for r in result.get("intent_ranking", [])[:3]
                    ],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    asyncio.run(main(sys.argv[1]))
