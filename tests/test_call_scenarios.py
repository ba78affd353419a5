"""The whole-call scenario suite: its files, its judge, and a smoke run of real calls over the phone line."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.calls.checks import CallEvidence, OrderSnapshot, Reply, judge, sentences
from eval.calls.scenario import FLOWS, ScenarioError, load_file, load_suite
from eval.calls.suite import SCENARIOS_DIR, SETS

SEEDED = OrderSnapshot(status="pending", address="88 e gay st apt 5c columbus oh 43215", refund_ids=frozenset())


def scenario_from(tmp_path: Path, text: str):
    path = tmp_path / "cancel.yaml"
    path.write_text(text, encoding="utf-8")
    return load_file(path, set_name="tuning")


CANCEL = """
flow: cancel
scenarios:
  - name: cancel_it
    turns:
      - user: "cancel order one zero zero five one two"
        expect:
          - event: response
            text_contains: "cancel"
      - user: "yes"
      - user: "bye"
    outcome:
      orders: {"100512": cancelled}
      handoff: none
      ended_by: caller
"""


def evidence(replies, after, handoff=None, bot_ended_after=None) -> CallEvidence:
    return CallEvidence(
        call_id="c", replies=replies, bot_text=" ".join(r.text for r in replies if r), orders_before={"100512": SEEDED},
        orders_after={"100512": after}, handoff=handoff, bot_ended_after=bot_ended_after,
    )


def test_the_suite_has_sixty_scenarios_over_every_flow_in_both_sets():
    sets = {name: load_suite(SCENARIOS_DIR / name) for name in SETS}
    assert sum(len(s) for s in sets.values()) >= 60
    for name, scenarios in sets.items():
        assert {s.flow for s in scenarios} == set(FLOWS), name
        assert len({s.name for s in scenarios}) == len(scenarios), f"{name}: names must be unique"
    assert len(sets["blind"]) >= sum(len(s) for s in sets.values()) / 3 - 1  # a third of them is blind


def test_a_call_that_did_what_the_scenario_asks_passes(tmp_path):
    [scenario] = scenario_from(tmp_path, CANCEL)
    done = OrderSnapshot("cancelled", SEEDED.address, frozenset())
    replies = [Reply("Shall I cancel it?"), Reply("Done, it's cancelled."), Reply("Goodbye!")]
    assert judge(scenario, evidence(replies, done, bot_ended_after=3)) == []


def test_the_judge_names_every_way_a_call_fell_short(tmp_path):
    [scenario] = scenario_from(tmp_path, CANCEL)
    failures = judge(
        scenario,
        evidence([Reply("Sorry, say that again?"), None], SEEDED, handoff={"queue": "general", "reason": "not_understood"}, bot_ended_after=2),
    )
    text = "\n".join(failures)
    assert "reply lacks 'cancel'" in text
    assert "turn 2: the bot said nothing" in text
    assert "the bot hung up after turn 2, before the caller was done" in text
    assert "order 100512 is pending, expected cancelled" in text
    assert "handed off (not_understood, general), expected no handoff" in text


def test_a_handoff_is_judged_on_its_queue_reason_and_summary(tmp_path):
    [scenario] = scenario_from(tmp_path, """
flow: handoff
scenarios:
  - name: angry
    turns:
      - user: "this is the third time i'm calling"
    outcome:
      handoff: {queue: complaints, reason: angry_caller, mentions: ["100512"]}
      ended_by: not_bot
""")
    wrong = {"queue": "after_sales", "reason": "change_order", "summary": "Caller wants to change items."}
    failures = judge(scenario, evidence([Reply("A colleague can change the items.")], SEEDED, handoff=wrong, bot_ended_after=1))
    assert failures == [
        "handed off to after_sales, expected complaints",
        "handoff reason change_order, expected angry_caller",
        "the handoff summary does not mention '100512'",
        "the bot ended the call",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("flow: nope\nscenarios: []", "`flow:` must be one of"),
        ("flow: cancel\nscenarios:\n  - name: a\n    turns: [{user: hi}]\n", "`outcome:` needs at least one of"),
        ("flow: cancel\nscenarios:\n  - name: a\n    turns: [{dtmf: '12x'}]\n    outcome: {handoff: none}\n", "`dtmf:` takes keys"),
        ("flow: cancel\nscenarios:\n  - name: a\n    turns: [{user: hi, dtmf: '1'}]\n    outcome: {handoff: none}\n", "exactly one of"),
        ("flow: cancel\nscenarios:\n  - name: a\n    turns: [{user: hi}]\n    outcome: {orders: {'1': gone}}\n", "unknown order statuses"),
        ("flow: cancel\nscenarios:\n  - name: a\n    turns: [{user: hi}]\n    outcome: {handoff: none}\n  - name: a\n    turns: [{user: hi}]\n    outcome: {handoff: none}\n", "used twice"),
    ],
)
def test_a_bad_scenario_file_says_where_and_what(tmp_path, text, error):
    with pytest.raises(ScenarioError, match=error) as raised:
        scenario_from(tmp_path, text)
    assert "cancel.yaml" in str(raised.value)


def test_sentences_are_counted_as_a_listener_hears_them():
    assert sentences("Order 104233 is on its way. It should arrive on Friday, December 4. Anything else?") == 3
    assert sentences("Okay") == 1


# --- a smoke run: real calls in a synthetic voice over the Twilio line -------------------

# Calls that pass over the phone line today. The other reported calls pass as text but not
# yet by phone: their callers pause between sentences and the turn splits there (issue 12).
SMOKE = (
    "reported/misheard_refund_question_is_not_a_goodbye",
    "reported/third_time_calling_goes_to_complaints",
    "reported/delivery_time_answer_is_short",
)


@pytest.mark.integration
def test_smoke_scenarios_pass_as_phone_calls():
    from eval.calls.runner import PhoneCarrier, run_scenario, suite_engine

    scenarios = [s for s in load_suite(SCENARIOS_DIR / "tuning") if s.name in SMOKE]
    assert len(scenarios) == len(SMOKE)
    with suite_engine(print) as engine:
        results = [run_scenario(s, i, PhoneCarrier(engine), engine) for i, s in enumerate(scenarios)]
    failed = {r.scenario.name: (r.failures, r.transcript) for r in results if not r.passed}
    assert not failed, failed
