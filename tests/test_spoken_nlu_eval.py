"""The spoken-NLU eval's bookkeeping: which phrasings, in which voice, and how the figures add up."""

from pathlib import Path

from eval.spoken_nlu import NO_INTENT, Heard, SpokenItem, report_of, spoken_items
from voicebot.settings import Settings

NLU_SET = """\
version: "3.1"
nlu:
- intent: track_order
  examples: |
    - where on earth is my parcel right now
    - has my stuff left the warehouse yet
    - my parcel went to narnia i think
- intent: cancel_order
  examples: |
    - scrap the whole order please
    - i changed my mind about buying that
"""


def write_set(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(NLU_SET)
    return path


def test_every_phrasing_is_spoken_once_in_the_next_voice_of_the_family(tmp_path):
    first, second = write_set(tmp_path, "a.yml"), write_set(tmp_path, "b.yml")
    items = spoken_items(Settings(), [first, second], ["kokoro-x", "kokoro-y", "kokoro-z"], limit=None)
    assert len(items) == 10
    assert [item.voice for item in items[:4]] == ["kokoro-x", "kokoro-y", "kokoro-z", "kokoro-x"]
    assert {item.set_name for item in items} == {"a.yml", "b.yml"}
    assert items[0] == SpokenItem("where on earth is my parcel right now", "track_order", "a.yml", "kokoro-x")


def test_a_limit_takes_an_even_share_of_each_set_spread_over_it(tmp_path):
    files = [write_set(tmp_path, "a.yml"), write_set(tmp_path, "b.yml")]
    items = spoken_items(Settings(), files, ["v"], limit=4)
    assert [item.set_name for item in items] == ["a.yml", "a.yml", "b.yml", "b.yml"]
    assert [item.text for item in items[:2]] == ["where on earth is my parcel right now", "my parcel went to narnia i think"]  # spread


def test_the_report_counts_repeat_requests_and_cut_turns_as_misses():
    items = [
        SpokenItem("where is my parcel", "track_order", "a.yml", "kokoro-x"),
        SpokenItem("scrap the order", "cancel_order", "a.yml", "kokoro-y"),
        SpokenItem("what's the weather", "out_of_scope", "b.yml", "kokoro-x"),
        SpokenItem("cancel it", "cancel_order", "b.yml", "kokoro-y"),
    ]
    heard = [
        Heard("Where is my parcel?", "track_order"),
        Heard("", NO_INTENT, asked_to_repeat=True, turns=0),
        Heard("What's the weather?", NO_INTENT),  # a fallback on out-of-scope talk is right
        Heard("Cancel", "track_order", turns=2),
    ]
    report = report_of(Settings(), items, heard, "phone", 2)
    overall = report["overall"]
    assert overall["accuracy"] == 0.5
    assert overall["asked_to_repeat"] == 1 and overall["cut_into_turns"] == 1
    assert overall["per_voice"] == {"kokoro-x": 1.0, "kokoro-y": 0.0}
    assert report["sets"]["a.yml"]["accuracy"] == 0.5 and report["sets"]["b.yml"]["accuracy"] == 0.5
    assert report["calls_at_once"] == 2 and len(report["items"]) == 4
    assert report["items"][3]["expected_intent"] == "cancel_order" and report["items"][3]["heard_intent"] == "track_order"
