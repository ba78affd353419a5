"""Knowledge-base retrieval eval: does a caller's question find the right article, fast?

The questions in eval/data/kb_questions.yaml were written from one-line topic
descriptions without seeing the articles, so they test paraphrase, ASR-style text and
typos rather than the articles' own wording. kb_questions_dev.yaml is a separate set
used to tune the ranker and the answer threshold; report figures on the test set.

Reported: recall@1, recall@3 and MRR over the answerable questions; what the bot would
do with the answer threshold (right answer, wrong answer, handoff offer) for answerable
and unanswerable questions; script recall for agent situations; query latency.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import yaml

from eval.latency_stats import summarise
from knowledge.service import KnowledgeBase
from voicebot.settings import PROJECT_ROOT, Settings

DATA_DIR = PROJECT_ROOT / "eval" / "data"
TEST_SET = DATA_DIR / "kb_questions.yaml"
DEV_SET = DATA_DIR / "kb_questions_dev.yaml"
RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "kb.json"


def load_set(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    return {
        "questions": [(item["q"], item["article"]) for item in data.get("questions") or []],
        "unanswerable": list(data.get("unanswerable") or []),
        "agent_situations": [(item["turns"], item.get("emotion"), item["script"]) for item in data.get("agent_situations") or []],
    }


def ranking_scores(ranks: list[int | None]) -> dict:
    """recall@1, recall@3 and MRR from the 1-based rank of the right article (None = not in the list)."""
    n = len(ranks) or 1
    return {
        "count": len(ranks),
        "recall_at_1": round(sum(r == 1 for r in ranks) / n, 4),
        "recall_at_3": round(sum(r is not None and r <= 3 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def rank_of(expected: str, ids: list[str]) -> int | None:
    return ids.index(expected) + 1 if expected in ids else None


def evaluate(kb: KnowledgeBase, data: dict, on_progress: Callable[[int, int], None] | None = None) -> dict:
    timings: list[float] = []
    ranks: list[int | None] = []
    misses: list[dict] = []
    bot = {"right_answer": 0, "wrong_answer": 0, "handoff_offer": 0}
    total = len(data["questions"]) + len(data["unanswerable"]) + len(data["agent_situations"])
    done = 0
    for question, expected in data["questions"]:
        started = time.perf_counter()
        answer = kb.answer(question)
        timings.append((time.perf_counter() - started) * 1000)
        ids = [h.article.id for h in (answer.best, *answer.alternatives) if h]
        ranks.append(rank_of(expected, ids))
        if ranks[-1] != 1:
            misses.append({"q": question, "expected": expected, "got": ids})
        if not answer.answered:
            bot["handoff_offer"] += 1
        else:
            bot["right_answer" if ids[0] == expected else "wrong_answer"] += 1
        done += 1
        if on_progress:
            on_progress(done, total)
    offered = 0
    false_answers: list[dict] = []
    for question in data["unanswerable"]:
        started = time.perf_counter()
        answer = kb.answer(question)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.answered:
            false_answers.append({"q": question, "got": answer.best.article.id, "score": round(answer.best.score, 3)})
        else:
            offered += 1
        done += 1
        if on_progress:
            on_progress(done, total)
    script_ranks: list[int | None] = []
    for turns, emotion, expected in data["agent_situations"]:
        suggestions = kb.suggest(turns, emotion=emotion)
        script_ranks.append(rank_of(expected, [h.article.id for h in suggestions.scripts]))
        done += 1
        if on_progress:
            on_progress(done, total)
    n_unanswerable = len(data["unanswerable"]) or 1
    return {
        "retrieval": ranking_scores(ranks),
        "bot_answers": {
            "min_answer_score": kb.min_answer_score,
            "min_answer_margin": kb.min_answer_margin,
            **{k: round(v / (len(ranks) or 1), 4) for k, v in bot.items()},
            "unanswerable_count": len(data["unanswerable"]),
            "unanswerable_handoff_offer": round(offered / n_unanswerable, 4),
            "unanswerable_false_answer": round(len(false_answers) / n_unanswerable, 4),
        },
        "scripts": ranking_scores(script_ranks),
        "latency": summarise(timings),
        "misses": misses,
        "false_answers": false_answers,
    }


def run(settings: Settings, args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    path = DEV_SET if args.dev else (args.questions or TEST_SET)
    data = load_set(path)
    echo(f"==> loading the knowledge base ({settings.kb_dir})")
    kb = KnowledgeBase.from_settings(settings)
    kb.answer("warm-up question")  # first-call costs (BLAS set-up) are not query latency

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            echo(f"    {done}/{total} queries")

    echo(f"==> {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    report = {"set": str(path.name), "articles": len(kb.index.articles), **evaluate(kb, data, progress)}
    r, b, s, t = report["retrieval"], report["bot_answers"], report["scripts"], report["latency"]
    echo(f"retrieval ({r['count']} questions): recall@1 {r['recall_at_1']:.3f}  recall@3 {r['recall_at_3']:.3f}  MRR {r['mrr']:.3f}")
    echo(
        f"bot at score >= {b['min_answer_score']}, margin >= {b['min_answer_margin']}: right answer {b['right_answer']:.1%}, wrong answer {b['wrong_answer']:.1%}, "
        f"handoff offer {b['handoff_offer']:.1%}; unanswerable ({b['unanswerable_count']}): handoff offer "
        f"{b['unanswerable_handoff_offer']:.1%}, false answer {b['unanswerable_false_answer']:.1%}"
    )
    echo(f"agent scripts ({s['count']} situations): recall@1 {s['recall_at_1']:.3f}  recall@3 {s['recall_at_3']:.3f}  MRR {s['mrr']:.3f}")
    echo(f"query latency ({t['turns']} queries): p50 {t['p50_ms']} ms  p95 {t['p95_ms']} ms  max {t['max_ms']} ms")
    if args.show_misses:
        for miss in report["misses"]:
            echo(f"  miss: {miss['q']!r} expected {miss['expected']} got {miss['got']}")
        for wrong in report["false_answers"]:
            echo(f"  false answer: {wrong['q']!r} -> {wrong['got']} ({wrong['score']})")
    results = RESULTS_FILE.with_name("kb_dev.json") if args.dev else RESULTS_FILE
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2))
    echo(f"results written to {results.relative_to(PROJECT_ROOT)}")
    if args.json:
        print(json.dumps(report, indent=2))
    return 0
