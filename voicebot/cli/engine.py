"""`voicebot train`, `serve` and `chat`: the bot's processes, and talking to it in text."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import nullcontext

import httpx

from voicebot.credentials import CARRIER_KEY, SERVICE_TOKEN, deployment_secret, service_headers
from voicebot.runtime.console import echo
from voicebot.runtime.stack import EngineStack, local_engine
from voicebot.settings import Settings


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.runtime.rasa_runner import RasaError, train

    try:
        train(settings, force=args.force, echo=echo)
    except RasaError as error:
        echo(f"error: {error}")
        return 1
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    stack = EngineStack(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start(train_first=not args.no_train)
        health = httpx.get(f"{settings.engine_url}/health", timeout=10).json()
        echo(f"Ready: {settings.engine_url}/health -> {health['status']}. Press Ctrl+C to stop.")
        while not stop.wait(2.0):
            stack.supervise_once()
    except KeyboardInterrupt:
        pass
    finally:
        echo("Stopping ...")
        stack.stop()
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    url = args.url or settings.engine_url
    interactive = sys.stdin.isatty()
    with nullcontext() if args.url else local_engine(settings, "this chat"):
        with httpx.Client(base_url=url, headers=service_headers(settings), timeout=30) as client:
            turn = client.post("/api/v1/conversations", json={"channel": "text"}).json()
            call_id = turn["call_id"]
            echo(f"Call {call_id} (type 'quit' to hang up)")
            outcome = show_turn(turn)
            while outcome is None:
                if interactive:
                    print("you> ", end="", flush=True)
                line = sys.stdin.readline()
                if not line or line.strip().lower() in ("quit", "exit"):
                    outcome = "abandoned"
                    break
                if not line.strip():
                    continue
                if not interactive:
                    print(f"you> {line.strip()}")
                turn = client.post(f"/api/v1/conversations/{call_id}/messages", json={"text": line.strip()}).json()
                outcome = show_turn(turn)
            client.post(f"/api/v1/conversations/{call_id}/end", json={"outcome": outcome})
            echo(f"Call ended: {outcome}")
    return 0


def show_turn(turn: dict) -> str | None:
    """Prints the bot's turn; returns the call outcome if the turn ended the call."""
    for text in turn["bot_texts"]:
        print(f"bot> {text}", flush=True)
    if turn.get("intent"):
        echo(f"     [{turn['intent']} {turn.get('confidence') or 0:.2f}, {turn['latency_ms']:.0f} ms]")
    if turn.get("handoff"):
        echo(f"     [handed off to the {turn['handoff'].get('queue')} queue: {turn['handoff'].get('reason')}]")
        return "handed_off"
    if turn.get("end_call"):
        return "resolved"
    return None


SECRETS = {"service-token": SERVICE_TOKEN, "carrier-key": CARRIER_KEY}


def cmd_secret(args: argparse.Namespace, settings: Settings) -> int:
    print(deployment_secret(settings, SECRETS[args.name]))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the Rasa model if nlu/ changed", description="Trains the Rasa model in nlu/models/ when the project's config, domain, data or components changed since the last training.")
    p.add_argument("--force", action="store_true", help="train even if nothing changed")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("serve", help="start Rasa, the action server and the engine", description="Trains if needed, then starts the engine (HTTP on VOICEBOT_PORT, default 8080), the Rasa server and the action server on loopback. GET /health answers 200 once all are ready.")
    p.add_argument("--no-train", action="store_true", help="use the latest model without checking for changes")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "secret", help="print a token a client of this deployment needs",
        description="Prints one of this deployment's secrets (made at first use in <data_dir>/secrets, mode 0600). "
        "service-token: the bearer token of the engine's data API (CRM back ends, scripts). carrier-key: what "
        "the carrier shows when no Twilio auth token is set, as <Parameter name=\"key\"> in the <Stream> and as "
        "?key= on the transfer TwiML URL. Treat both like passwords.",
    )
    p.add_argument("name", choices=sorted(SECRETS), help="which secret")
    p.set_defaults(func=cmd_secret)

    p = sub.add_parser("chat", help="talk to the bot in text", description="A text conversation with the real bot. Uses the running engine, or starts one for the chat. Reads lines from stdin, so it can be scripted: printf 'hi\\nwhere is order 104233\\n' | voicebot chat")
    p.add_argument("--url", help="engine URL (default: the local engine)")
    p.set_defaults(func=cmd_chat)
