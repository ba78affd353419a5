"""`voicebot agents`, `handoffs` and `routing`: the people side of handed-off calls."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from voicebot.runtime.console import echo
from voicebot.settings import Settings


def cmd_agents_add(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from voicebot.desk.agents import AgentService
    from voicebot.domain.errors import ServiceError
    from voicebot.store.session import init_database, session_factory

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.username} (10+ characters): ")
    agents = AgentService(session_factory(init_database(settings)))
    queues = [q.strip() for q in (args.queues or "").split(",") if q.strip()]
    try:
        agent = agents.create_agent(args.username, password, args.name or args.username, args.role, queues)
    except ServiceError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    echo(f"Agent {agent.username} ({agent.role}) can now sign in at {settings.engine_url}/desk; queues: {', '.join(agent.queues) or 'all'}")
    return 0


def cmd_handoffs_show(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.domain.errors import NotFound
    from voicebot.store.handoffs import HandoffRepository
    from voicebot.store.session import init_database, session_factory

    try:
        handoff = HandoffRepository(session_factory(init_database(settings))).latest_handoff(args.call_id)
    except NotFound as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(handoff.summary_json or {}, indent=2))
        return 0
    print(f"handoff {handoff.handoff_id}  {handoff.status}  queue {handoff.queue} (priority {handoff.priority}, rule: {handoff.routing_rule})")
    print(handoff.summary or "(no summary)")
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


def add_commands(sub: argparse._SubParsersAction) -> None:
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
