"""The `voicebot` command: train, serve, chat, place a call, inspect orders and handoffs.

One module per command group; each adds its sub-commands with `add_commands`.
The evaluation suites are a separate command, `voicebot-eval` (eval/cli.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from voicebot.cli import call, data, desk, engine, nlu
from voicebot.settings import get_settings

DESCRIPTION = """\
Offline voice phone bot and agent-assist engine for customer service.

Typical use:
  voicebot train              train the Rasa model (only if nlu/ changed)
  voicebot serve              start Rasa, the action server and the engine on loopback
  voicebot secret service-token   the bearer token of the engine's data API
  voicebot chat               talk to the bot in text (starts everything if needed)
  voicebot call --audio ...   place a scripted phone call (Twilio Media Streams)
  echo "where is my parcel" | voicebot nlu parse
  voicebot orders list --json
  voicebot kb check           validate the knowledge articles
  voicebot kb ask "QUESTION"  what retrieval finds, and whether the bot would answer
  voicebot agents add NAME    create an agent desktop account (/desk)
  voicebot handoffs show ID   a handed-off call's summary
  voicebot routing check      validate the skill-routing rules

Benchmarks and evaluation suites: voicebot-eval --help.
Settings come from VOICEBOT_* environment variables (see README); DATABASE_URL
selects PostgreSQL instead of the embedded SQLite file.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    engine.add_commands(sub)
    call.add_commands(sub)
    nlu.add_commands(sub)
    desk.add_commands(sub)
    data.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
