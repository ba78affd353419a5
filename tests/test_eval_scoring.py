"""Scoring in the eval suites: ASR word errors however numbers are written, the soak trend."""

from __future__ import annotations

from eval.asr_eval import digit_string, normalise, word_errors


def test_numbers_score_the_same_however_they_are_written() -> None:
    spoken = normalise("It's one oh four two three three.")
    assert normalise("It's 1 0 4 2 3 3.") == spoken
    assert normalise("It's 104233") == spoken
    assert normalise("it's 1-0-4-2-3-3") == spoken
    assert normalise("twelve Oak Street") == normalise("12 Oak Street") == ["twelve", "oak", "street"]
    assert digit_string(spoken) == "104233"
    assert normalise("Oh, where is it?")[0] == "oh"  # "oh" is zero only beside digits


def test_word_errors_count_substitutions_insertions_and_deletions() -> None:
    reference = "where is my order".split()
    assert word_errors(reference, reference) == 0
    assert word_errors(reference, "where is the order".split()) == 1
    assert word_errors(reference, "where is my order please".split()) == 1
    assert word_errors(reference, "where my order".split()) == 1
    assert word_errors(reference, []) == 4


def test_soak_trend_is_the_steady_growth_per_call() -> None:
    from eval.soak import trend_kb_per_call

    assert trend_kb_per_call([(5, 400.0), (6, 400.0), (7, 400.0)]) == 0.0
    assert trend_kb_per_call([(5, 400.0), (6, 401.0), (7, 402.0)]) == 1024.0
    assert trend_kb_per_call([(5, 400.0)]) is None
