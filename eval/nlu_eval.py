"""`voicebot-eval nlu`: intent accuracy and macro-F1 on phrasings the model never saw.

The test sets in eval/data/nlu_fresh*.yml were written by hand, independently of the
training data (a random split of the Bitext file would hide the generalisation gap).
An out-of-scope utterance counts as handled when the bot recognises it as out of
scope or falls back (`nlu_fallback`): either way it is not claimed by a
customer-service intent.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

import yaml

from voicebot.settings import PROJECT_ROOT, Settings

NOT_SERVED = {"out_of_scope", "nlu_fallback"}
RESULTS_FILE = PROJECT_ROOT / "eval" / "results" / "nlu.json"


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file."""
    examples = []
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append((line[2:].strip(), block["intent"]))
    return examples


def served(label: str) -> str:
    """Out of scope and a fallback are the same outcome: the bot does not claim the turn."""
    return "out_of_scope" if label in NOT_SERVED else label


def score(pairs: list[tuple[str, str, str]]) -> dict:
    """Accuracy, macro-F1, per-intent precision/recall/F1 and confusion pairs from (text, gold, predicted)."""
    gold_counts, predicted_counts, correct = Counter(), Counter(), Counter()
    confusions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text, gold, predicted in pairs:
        gold, predicted = served(gold), served(predicted)
        gold_counts[gold] += 1
        predicted_counts[predicted] += 1
        if gold == predicted:
            correct[gold] += 1
        else:
            confusions[(gold, predicted)].append(text)
    per_intent = {}
    for intent in sorted(gold_counts):
        precision = correct[intent] / predicted_counts[intent] if predicted_counts[intent] else 0.0
        recall = correct[intent] / gold_counts[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": gold_counts[intent]}
    total = sum(gold_counts.values())
    return {
        "examples": total,
        "accuracy": round(sum(correct.values()) / total, 4) if total else 0.0,
        "macro_f1": round(sum(v["f1"] for v in per_intent.values()) / len(per_intent), 4) if per_intent else 0.0,
        "per_intent": per_intent,
        "confusions": [
            {"gold": g, "predicted": p, "count": len(texts), "examples": texts[:3]}
            for (g, p), texts in sorted(confusions.items(), key=lambda kv: -len(kv[1]))
        ],
    }


def calibration(sureness: list[tuple[float, bool]], bins: int = 10) -> dict:
    """How far the classifier's confidence is from its accuracy: expected calibration error
    (the confidence-weighted gap over equal-width bins) and accuracy per bin."""
    table = []
    gap = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in sureness if low <= c < high or (b == bins - 1 and c == 1.0)]
        if not inside:
            continue
        confidence = sum(c for c, _ in inside) / len(inside)
        accuracy = sum(ok for _, ok in inside) / len(inside)
        gap += len(inside) / len(sureness) * abs(confidence - accuracy)
        table.append({"confidence": f"{low:.1f}-{high:.1f}", "turns": len(inside), "mean_confidence": round(confidence, 3), "accuracy": round(accuracy, 3)})
    return {"expected_calibration_error": round(gap, 4), "bins": table}


def knowledge_intents(nlu_dir: Path) -> set[str]:
    """Intents whose rule runs action_answer_from_knowledge (nlu/data/rules.yml).

    For them the intent is only a hint: the knowledge base picks the answer from the
    caller's words, so mixing them up among themselves changes nothing the caller hears.
    """
    rules = yaml.safe_load((nlu_dir / "data" / "rules.yml").read_text()).get("rules") or []
    return {
        steps[0]["intent"]
        for steps in (rule.get("steps") or [] for rule in rules if not rule.get("condition"))
        if len(steps) >= 2 and "intent" in steps[0] and steps[1].get("action") == "action_answer_from_knowledge"
    }


def normalised(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def training_sentences(nlu_dir: Path) -> set[str]:
    return {normalised(text) for path in (nlu_dir / "data").rglob("*.yml") for text, _ in load_examples(path)}


def held_out(examples: list[tuple[str, str]], training: set[str]) -> tuple[list[tuple[str, str]], int]:
    """Drops test sentences that also occur in the training data: they would not test generalisation."""
    kept = [(text, intent) for text, intent in examples if normalised(text) not in training]
    return kept, len(examples) - len(kept)


def default_test_files() -> list[Path]:
    return sorted((PROJECT_ROOT / "eval" / "data").glob("nlu_fresh*.yml"))


def evaluate(settings: Settings, files: list[Path], parse: Callable, echo: Callable[[str], None]) -> dict:
    report: dict = {"sets": {}, "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    all_pairs, sureness = [], []
    training = training_sentences(settings.nlu_dir)
    for path in files:
        examples, dropped = held_out(load_examples(path), training)
        echo(f"Parsing {len(examples)} utterances from {path.name} ({dropped} dropped: also in the training data) ...")
        started = time.perf_counter()
        parsed = parse(settings, [text for text, _ in examples])
        echo(f"  {len(parsed)} parsed in {time.perf_counter() - started:.1f} s")
        pairs = [(text, gold, result["intent"] or "nlu_fallback") for (text, gold), result in zip(examples, parsed)]
        all_pairs += pairs
        sureness += [(float(result["confidence"]), served(gold) == served(predicted)) for (_, gold, predicted), result in zip(pairs, parsed)]
        report["sets"][path.name] = {**score(pairs), "dropped_training_duplicates": dropped}
    report["overall"] = score(all_pairs)
    policy = knowledge_intents(settings.nlu_dir)

    def as_one(intent: str) -> str:
        return "knowledge_base" if intent in policy else intent

    merged = score([(text, as_one(gold), as_one(predicted)) for text, gold, predicted in all_pairs])
    report["knowledge_intents_as_one"] = {"intents": sorted(policy), "accuracy": merged["accuracy"], "macro_f1": merged["macro_f1"]}
    report["calibration"] = calibration(sureness)
    return report


def print_report(report: dict) -> None:
    for name, result in [*report["sets"].items(), ("ALL SETS", report["overall"])]:
        dropped = f" ({result['dropped_training_duplicates']} training duplicates left out)" if "dropped_training_duplicates" in result else ""
        print(f"\n== {name}: {result['examples']} utterances{dropped}")
        print(f"accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
    merged = report["knowledge_intents_as_one"]
    print(
        f"accuracy {merged['accuracy']:.3f}   macro-F1 {merged['macro_f1']:.3f}   with the {len(merged['intents'])} "
        "intents answered from the knowledge base counted as one (the bot handles them alike)"
    )
    overall = report["overall"]
    calibrated = report["calibration"]
    print(f"\nconfidence vs accuracy (expected calibration error {calibrated['expected_calibration_error']:.3f})")
    for row in calibrated["bins"]:
        print(f"  confidence {row['confidence']}: {row['turns']:>4} turns, mean confidence {row['mean_confidence']:.2f}, accuracy {row['accuracy']:.2f}")
    print("\nper intent (all sets)        precision recall   f1  support")
    for intent, s in overall["per_intent"].items():
        print(f"  {intent:<27} {s['precision']:.2f}     {s['recall']:.2f}   {s['f1']:.2f}  {s['support']}")
    print("\nmost frequent confusions (gold -> predicted)")
    for c in overall["confusions"][:15]:
        print(f"  {c['count']:>3}  {c['gold']} -> {c['predicted']}   e.g. \"{c['examples'][0]}\"")


def run(settings: Settings, args: argparse.Namespace, parse: Callable, echo: Callable[[str], None]) -> int:
    files = [Path(f) for f in args.data] if args.data else default_test_files()
    report = evaluate(settings, files, parse, echo)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        echo(f"\nResults written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0
