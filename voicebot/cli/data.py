"""`voicebot orders` and `voicebot kb`: the order data and the knowledge base."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from voicebot.runtime.console import echo
from voicebot.settings import Settings


def cmd_orders_list(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.domain.records import to_json
    from voicebot.store.repositories import Store
    from voicebot.store.session import init_database, session_factory

    orders = Store.open(session_factory(init_database(settings))).orders.list_orders()
    if args.json:
        print(json.dumps(to_json(orders), indent=2))
    else:
        for order in orders:
            print(f"{order.order_number}  {order.status:<17} {to_json(order.expected_delivery) or '-':<12} {order.customer}")
    return 0


def cmd_kb_check(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.content import check, load_articles
    from voicebot.dialogue.project import domain_intents

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


def add_commands(sub: argparse._SubParsersAction) -> None:
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
