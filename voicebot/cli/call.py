"""`voicebot call`: phone the engine as a carrier would, with a scripted caller (voicebot/telephony/twilio/caller.py)."""

from __future__ import annotations

import argparse

from voicebot.settings import get_settings
from voicebot.telephony.twilio import caller


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("call", help="place a scripted phone call over Twilio Media Streams", description=caller.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    caller.add_arguments(p, get_settings())
    p.set_defaults(func=caller.cmd_call)
