"""`voicebot-eval`: the evaluation suites and benchmarks.

They import the product and start it as a user would; the product never imports them.
Each suite prints its figures and writes a results file under eval/results/.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from voicebot.runtime.console import echo
from voicebot.settings import Settings, get_settings

DESCRIPTION = """\
Evaluation suites and benchmarks of the voicebot engine.

  voicebot-eval nlu           intent accuracy on fresh phrasings
  voicebot-eval spoken-nlu    first-turn intent accuracy when callers say them
  voicebot-eval kb            knowledge-base retrieval: recall, MRR, query latency
  voicebot-eval text-latency  text-level turn latency
  voicebot-eval latency       phone turn latency per stage, and calls held at once
  voicebot-eval asr           speech recognition errors and speed over a phone line
  voicebot-eval vad           does the call's VAD hear callers at all (and not noise)?
  voicebot-eval transcribe-training   training phrasings as Whisper hears them (writes nlu data)
  voicebot-eval soak          many calls in a row: engine memory stays flat?
  voicebot-eval flood         many callers at once: clean refusals, a real call's latency kept?
  voicebot-eval calls         whole calls: task success, containment, handoffs

Suites that need the bot reuse a running `voicebot serve` or start one.
"""


def cmd_eval_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from eval.nlu_eval import run
    from voicebot.runtime.rasa_runner import parse_texts

    return run(settings, args, parse_texts, echo)


def cmd_eval_spoken_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from eval.spoken_nlu import run
    from voicebot.runtime.rasa_runner import parse_texts

    return run(settings, args, parse_texts, echo)


def cmd_eval_vad(args: argparse.Namespace, settings: Settings) -> int:
    from eval.vad_eval import run

    return run(settings, args, echo)


def cmd_eval_text_latency(args: argparse.Namespace, settings: Settings) -> int:
    from eval.text_latency import run

    return run(settings, args, echo)


def cmd_eval_voice_latency(args: argparse.Namespace, settings: Settings) -> int:
    from eval.voice_latency import run

    return run(settings, args, echo)


def cmd_eval_soak(args: argparse.Namespace, settings: Settings) -> int:
    from eval.soak import run

    return run(settings, args, echo)


def cmd_eval_flood(args: argparse.Namespace, settings: Settings) -> int:
    from eval.flood import run

    return run(settings, args, echo)


def cmd_eval_asr(args: argparse.Namespace, settings: Settings) -> int:
    from eval.asr_eval import run

    return run(settings, args, echo)


def cmd_eval_transcribe_training(args: argparse.Namespace, settings: Settings) -> int:
    from eval.asr_training import run

    return run(settings, args, echo)


def cmd_eval_kb(args: argparse.Namespace, settings: Settings) -> int:
    from eval.kb_eval import run

    return run(settings, args, echo)


def cmd_eval_turns(args: argparse.Namespace, settings: Settings) -> int:
    from eval.turn_taking import run

    return run(settings, args, echo)


def cmd_eval_calls(args: argparse.Namespace, settings: Settings) -> int:
    from eval.calls.suite import run

    return run(settings, args, echo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot-eval", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    ev = parser.add_subparsers(dest="suite", required=True, metavar="SUITE")
    p = ev.add_parser("nlu", help="intent accuracy and macro-F1 on fresh phrasings", description="Parses the held-out fresh phrasings (eval/data/nlu_fresh.yml) with the trained model and prints accuracy, macro-F1, per-intent scores and confusion pairs. Results are written to eval/results/nlu.json.")
    p.add_argument("--data", action="append", help="Rasa NLU YAML test file(s) (default: eval/data/nlu_fresh*.yml)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_nlu)
    p = ev.add_parser(
        "spoken-nlu",
        help="first-turn intent accuracy of the fresh phrasings, spoken",
        description="Voices the held-out phrasings of eval/data/nlu_fresh*.yml (the ones `nlu` scores as text) in one voice family, "
        "by default Kokoro, which no tuning hears, and reports the intent the bot gave each caller's first turn. "
        "--via phone (default) places a real call on a Twilio WebSocket of a bot of its own (greeting, the phrasing, "
        "the reply; about 12 s a call); --via line transcribes the same telephone audio offline and parses it with Rasa "
        "(about 1 s a phrasing; no turn-taking). Results, with every transcript, go to eval/results/spoken_nlu.json.",
    )
    p.add_argument("--data", action="append", help="Rasa NLU YAML test file(s) (default: eval/data/nlu_fresh*.yml)")
    p.add_argument("--voices", default="kokoro", help="a voice family (kokoro, piper, espeak) or one voice name (default kokoro)")
    p.add_argument("--via", choices=("phone", "line"), default="phone", help="real calls (default) or offline transcription")
    p.add_argument("--calls-at-once", type=int, default=1, help="calls placed at the same time with --via phone (default 1)")
    p.add_argument("--limit", type=int, help="at most this many phrasings, an even share from each file")
    p.add_argument("--json", action="store_true", help="print the results (without transcripts) as JSON")
    p.set_defaults(func=cmd_eval_spoken_nlu)

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
    p.add_argument(
        "--prompts", action="store_true",
        help="also compare the domain prompt on every turn, on none and only while a number is expected, on the shop turns, "
        "a person's recorded telephone prompts (Debian asterisk-core-sounds-en-wav) and no-speech audio (silence, hiss, hold "
        "music from asterisk-moh-opsound-wav): WER, shop words it invents, hallucinations, and what the doubt signals catch",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_asr)
    p = ev.add_parser(
        "vad",
        help="voice activity: are callers heard at all, is noise taken for speech?",
        description="Voices the caller turns of eval/data/asr_caller_turns.txt and short answers in the tuning voices and, "
        "reported apart, the held-out Kokoro family, sends them over a phone line (quiet, 15 dB noise, 5 % packet loss) after "
        "3 s of that line with nobody speaking, and runs each VAD setup on them as a call does: Silero on the 16 kHz pipeline "
        "audio (before), and on the 8 kHz telephone band (the call's VAD) at two thresholds. A person's recorded telephone "
        "prompts (asterisk-core-sounds-en-wav) are heard the same way; silence, hiss and hold music (asterisk-moh-opsound-wav) "
        "show false speech. Prints the share of turns heard at all and of their speech reported, per setup. About 3 minutes; "
        "starts Piper if needed. Results go to eval/results/vad.json.",
    )
    p.add_argument("--limit", type=int, default=0, help="at most this many caller turns per voice family, plus the short answers (default all)")
    p.add_argument("--recorded", type=int, default=60, help="recorded prompts to hear (default 60)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_vad)
    p = ev.add_parser(
        "transcribe-training",
        help="write nlu/data/nlu/asr_transcripts.yml: training phrasings as Whisper hears them",
        description="Voices a sample of each intent's training phrasings in the tuning voices (Piper at four paces and pitches, "
        "espeak-ng; never the held-out Kokoro family), sends them over a phone line (quiet, 20 dB noise, 3 % packet loss in turn), "
        "transcribes them as a caller's first turn is and writes the usable transcripts, labelled with the phrasing's intent, "
        "to nlu/data/nlu/asr_transcripts.yml (replacing it). About 0.6 s a phrasing. Retrain afterwards (`voicebot train`).",
    )
    p.add_argument("--per-intent", type=int, default=80, help="phrasings to voice per intent (default 80)")
    p.add_argument("--seed", type=int, default=12, help="which phrasings are sampled (default 12)")
    p.set_defaults(func=cmd_eval_transcribe_training)

    p = ev.add_parser("soak", help="many calls in a row: does the engine's memory stay flat?", description="Places --calls short phone calls one after another on the engine's Twilio WebSocket (starting the engine if none is running) and reads its resident memory and open-call count from /health after each. Prints the memory growth per call after the warm-up calls. Results go to eval/results/soak.json.")
    p.add_argument("--calls", type=int, default=50, help="how many calls to place (default 50)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_soak)
    p = ev.add_parser(
        "flood", help="many callers at once: refused cleanly over the call limit, a real call's latency kept?",
        description="Places one scripted phone call alone, then the same call while --fake-calls fake callers connect "
        "at the same moment and hold a silent line open for --hold-s seconds (starting the engine if none is running). "
        "Prints how many were admitted (at most VOICEBOT_MAX_CALLS at once) and refused busy (close code 1013), how "
        "fast the refusals came, and the real call's turn latency alone and under the flood. Results go to "
        "eval/results/flood.json.",
    )
    p.add_argument("--fake-calls", type=int, default=50, help="fake callers connecting at once (default 50)")
    p.add_argument("--hold-s", type=float, default=8.0, help="how long an admitted fake caller stays on the line (default 8)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_flood)
    p = ev.add_parser("kb", help="knowledge-base retrieval: recall@1/@3, MRR, bot answers, query latency", description="Asks the knowledge base every question in eval/data/kb_questions.yaml (caller-style questions labelled with the article that answers them, questions no article answers, and agent situations labelled with a script). Prints recall@1, recall@3 and MRR; what the bot would say at VOICEBOT_KB_MIN_ANSWER_SCORE (right answer, wrong answer, handoff offer); script recall for agents; query latency p50/p95. Needs no running services. Results go to eval/results/kb.json.")
    p.add_argument("--questions", type=Path, help="another question file in the same format")
    p.add_argument("--dev", action="store_true", help="use the development set (eval/data/kb_questions_dev.yaml), the one the ranker is tuned on")
    p.add_argument("--show-misses", action="store_true", help="list every question whose article was not ranked first, and every false answer")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_kb)
    p = ev.add_parser(
        "turns",
        help="turn-taking: false cut-offs and response delay of each turn-stop policy",
        description=(
            "Voices every item of eval/data/turns/SET.yaml (a caller's words split where they pause: between sentences, "
            "mid-sentence, after a filler, between digit groups; and complete turns) twice, in several voices and line "
            "conditions with 0.5, 0.8 or 1.2 s pauses, and traces what a call's pipeline sees (Silero VAD, Whisper, Smart "
            "Turn v3.2). Then replays each turn-stop policy on those traces and prints false cut-offs (the turn ended with "
            "more speech to come) and response delay, overall and per kind, pause, voice family and line. Starts Piper if "
            "needed; about 10 minutes for the tuning set. Results go to eval/results/turns_SET.json (cut-off transcripts "
            "only for the tuning set)."
        ),
    )
    p.add_argument(
        "--set", choices=("tuning", "blind", "recorded"), default="tuning",
        help="which item set (default tuning; the blind set is never tuned on; recorded: a real person's telephone prompts "
        "from Debian's asterisk-core-sounds-en-wav, whole and split mid-sentence)",
    )
    p.add_argument("--grid", action="store_true", help="also replay other thresholds and holds (for choosing them on the tuning set)")
    p.add_argument(
        "--reuse-traces", action="store_true",
        help="replay the policies on the traces the last run of this set saved in var/eval/ (seconds instead of minutes)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_turns)
    p = ev.add_parser(
        "calls",
        help="whole-call scenarios: task success, containment, correct handoffs, turns, latency",
        description=(
            "Places every scenario of eval/data/calls/tuning and eval/data/calls/blind (YAML; the format is in "
            "eval/calls/scenario.py) as a whole call to a bot of the suite's own: its own engine, Rasa and Piper on "
            "free ports and a private SQLite database, put back to the demo seed before each call. In phone mode (the "
            "default) the caller's turns are synthesised in several voices (the blind set adds a voice family the bot "
            "was never tuned on), degraded by noise and packet loss, and played in real time over the Twilio WebSocket; "
            "text mode types them to the dialogue API (fast, for tuning the dialogue). Each call is judged on the order "
            "database and the call record. Prints a table of scenarios and, per set, task success, containment, correct "
            "handoffs, caller turns and reprompts per call, and reply latency. Results go to eval/results/calls_MODE.json. "
            "Exits 1 when a set's task success is below --min-success. A full phone run takes about two hours (about a minute a call); text mode about four minutes."
        ),
    )
    p.add_argument("--mode", choices=("phone", "text"), default="phone", help="carry calls over the phone line (default) or as text")
    p.add_argument("--set", choices=("all", "tuning", "blind"), default="all", help="which scenario set (default all; report each apart)")
    p.add_argument("--only", action="append", metavar="WORDS", help="only scenarios whose set/file/name contains WORDS (repeatable)")
    p.add_argument("--scenarios", metavar="DIR", help="a folder holding tuning/ and blind/ scenario folders (default eval/data/calls)")
    p.add_argument("--min-success", type=float, default=0.9, help="exit 1 if any set's task success is below this (default 0.9)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_eval_calls)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
