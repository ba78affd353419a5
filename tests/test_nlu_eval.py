from pathlib import Path

from eval.nlu_eval import default_test_files, load_examples, score


def test_scores_accuracy_macro_f1_and_confusions():
    pairs = [
        ("where is it", "track_order", "track_order"),
        ("when will it come", "delivery_period", "track_order"),
        ("golf", "out_of_scope", "nlu_fallback"),
        ("cancel it", "cancel_order", "cancel_order"),
    ]
    result = score(pairs)
    assert result["accuracy"] == 0.75
    assert result["per_intent"]["track_order"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert result["per_intent"]["out_of_scope"]["recall"] == 1.0  # a fallback counts as not served
    assert result["confusions"] == [
        {"gold": "delivery_period", "predicted": "track_order", "count": 1, "examples": ["when will it come"]}
    ]
    assert result["macro_f1"] == round((0.6667 + 0 + 1 + 1) / 4, 4)


def test_fresh_test_sets_cover_every_intent_of_the_domain():
    import yaml

    domain = yaml.safe_load(Path("nlu/domain.yml").read_text())
    files = default_test_files()
    assert files, "no held-out test sets in eval/data"
    intents = {intent for path in files for _, intent in load_examples(path)}
    # caller_upset is sent by the engine, never said by a caller.
    assert set(domain["intents"]) - {"thank_you", "bot_challenge", "caller_upset"} <= intents


def test_sentences_also_in_the_training_data_are_left_out():
    from eval.nlu_eval import held_out, training_sentences
    from voicebot.settings import PROJECT_ROOT

    training = training_sentences(PROJECT_ROOT / "nlu")
    examples = [("Where is my order?", "track_order"), ("my parcel went to narnia", "track_order")]
    training.add("where is my order")
    kept, dropped = held_out(examples, training)
    assert kept == [("my parcel went to narnia", "track_order")] and dropped == 1
    for path in default_test_files():
        kept, dropped = held_out(load_examples(path), training)
        assert len(kept) >= 300, f"{path.name}: only {len(kept)} held-out sentences left ({dropped} are training sentences)"


def test_knowledge_intents_are_read_from_the_rules():
    from eval.nlu_eval import knowledge_intents
    from voicebot.settings import PROJECT_ROOT

    intents = knowledge_intents(PROJECT_ROOT / "nlu")
    assert {"ask_policy", "check_refund_policy", "delivery_options", "check_payment_methods"} <= intents
    assert not intents & {"track_order", "cancel_order", "contact_human_agent", "out_of_scope"}


def test_calibration_error_is_the_weighted_gap_between_confidence_and_accuracy():
    from eval.nlu_eval import calibration

    sure_and_right = [(0.95, True)] * 8
    unsure_half_right = [(0.55, True), (0.55, False)]
    result = calibration(sure_and_right + unsure_half_right)
    assert result["expected_calibration_error"] == round(0.8 * 0.05 + 0.2 * 0.05, 4)
    assert [row["turns"] for row in result["bins"]] == [2, 8]
    assert calibration([(1.0, False)])["expected_calibration_error"] == 1.0  # a sure mistake, in the top bin
