"""Knowledge retrieval: the NumPy encoder, the rankers, filters, answers, suggestions, live reload, the API."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from eval.kb_eval import TEST_SET, evaluate, load_set, ranking_scores
from knowledge.content import ARTICLES_DIR
from knowledge.encoder import EmbeddingCache, SentenceEncoder
from knowledge.retrieval import BM25, INTENT_BONUS, SpellingFixer, terms
from knowledge.service import KnowledgeBase, last_question
from voicebot.api.knowledge import router
from voicebot.cli import main


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


@pytest.fixture(scope="module")
def kb(encoder, tmp_path_factory) -> KnowledgeBase:
    return KnowledgeBase(ARTICLES_DIR, tmp_path_factory.mktemp("cache"), encoder=encoder)


def test_numpy_encoder_matches_sentence_transformers(encoder) -> None:
    # First six dimensions from sentence-transformers 6.2 (PyTorch) on the same model.
    reference = np.array(
        [
            [0.03395, -0.01403, 0.04374, -0.02395, 0.06031, 0.01265],
            [-0.02929, 0.00326, 0.04054, 0.04753, 0.01639, 0.0104],
            [-0.02926, 0.03182, 0.06388, -0.02158, 0.00208, -0.04532],
        ]
    )
    vectors = encoder.encode(
        ["Where is my parcel?", "can i pay with paypal", "the box arrived crushed and the lamp is broken"]
    )
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(vectors[:, :6], reference, atol=2e-4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_terms_drop_filler_and_strip_suffixes() -> None:
    assert terms("Um, how do I get my refunds? Refunded! refunding") == ["refund", "refund", "refund"]


def test_spelling_fixer_maps_one_edit_typos_onto_known_words() -> None:
    fixer = SpellingFixer(["refund", "delivery", "coupon", "warranty"])
    assert fixer.fix("refnud") == "refund"  # transposition
    assert fixer.fix("delivry") == "delivery"  # deletion
    assert fixer.fix("cuopon") == "coupon"
    assert fixer.fix("golf") == "golf"  # nothing close: unchanged
    assert fixer.fix("12345") == "12345"


def test_bm25_prefers_the_document_with_the_rare_term() -> None:
    bm25 = BM25([terms("invoice for your order"), terms("your order ships today"), terms("pay with paypal")])
    scores = bm25.scores(terms("vat invoice please"))
    assert scores.argmax() == 0 and scores[1] == 0 and scores[2] == 0


def test_embedding_cache_embeds_only_new_text_and_prunes(encoder, tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "vectors.npz")
    first = cache.embed(encoder, ["one sentence", "another sentence"], prune=True)
    calls: list[list[str]] = []
    real = encoder.encode

    class Counting:
        dimension = encoder.dimension

        def encode(self, texts):
            calls.append(list(texts))
            return real(texts)

    reloaded = EmbeddingCache(tmp_path / "vectors.npz")
    again = reloaded.embed(Counting(), ["one sentence", "a third sentence"], prune=True)
    assert calls == [["a third sentence"]]
    np.testing.assert_allclose(again[0], first[0])
    assert len(EmbeddingCache(tmp_path / "vectors.npz").vectors) == 2  # "another sentence" pruned


def test_search_filters_by_kind_intent_and_tags(kb) -> None:
    scripts = kb.search("the caller is furious about a late parcel", kind="script", limit=10)
    assert scripts and {h.article.kind for h in scripts} == {"script"}
    by_intent = kb.search("anything", intent="check_payment_methods", limit=10)
    assert [h.article.id for h in by_intent] == ["payment-methods"]
    tagged = kb.search("money", tags=["refunds"], limit=10)
    assert tagged and all("refunds" in h.article.tags for h in tagged)
    assert kb.search("anything", intent="no_such_intent") == []
    assert kb.search("   ") == []


def test_intent_hint_nudges_but_does_not_filter(kb) -> None:
    plain = {h.article.id: h.score for h in kb.search("how much does it cost", limit=30)}
    hinted = {h.article.id: h.score for h in kb.search("how much does it cost", prefer_intent="delivery_options", limit=30)}
    assert hinted.keys() == plain.keys()
    assert hinted["delivery-options"] == pytest.approx(min(plain["delivery-options"] + INTENT_BONUS, 1.0))
    assert hinted["payment-methods"] == pytest.approx(plain["payment-methods"])


def test_confident_answers_are_spoken_and_unsure_ones_are_not(kb) -> None:
    answer = kb.answer("how long have i got to send something back")
    assert answer.answered and answer.best.article.id == "returns-and-refunds"
    assert answer.as_dict()["spoken"] == answer.best.article.spoken
    typo = kb.answer("do you take paypall")
    assert typo.answered and typo.best.article.id == "payment-methods"
    for question in ("how do i improve my golf swing", "can i buy a gift card for my mum"):
        unsure = kb.answer(question)
        assert not unsure.answered and unsure.as_dict()["spoken"] is None
    strict = KnowledgeBase(ARTICLES_DIR, None, encoder=kb.encoder, min_answer_margin=1.0)
    assert not strict.answer("how long have i got to send something back").answered  # no runner-up is that far behind


def test_the_question_asked_after_remarks_finds_its_article(kb) -> None:
    turn = "Already shipped? Okay... so what do I do then, can I just send it back when it comes?"
    assert last_question(turn) == "so what do I do then, can I just send it back when it comes?"
    answer = kb.answer(turn, "place_order")
    assert answer.answered and answer.best.article.id == "returns-and-refunds"
    assert last_question("how long does delivery take?") is None  # the turn is the question
    assert last_question("Hi. Is it free? Thanks.") is None  # too short to say what it asks


def test_suggestions_for_agents_follow_the_conversation_and_emotion(kb) -> None:
    angry = kb.suggest(["I've called three times about this", "you people are useless"], emotion="angry")
    assert angry.scripts[0].article.id == "script-angry-caller"
    refund = kb.suggest(["so when does the money come back to my card"], intent="track_refund", emotion="neutral")
    assert "script-confirming-refund" in [h.article.id for h in refund.scripts]
    assert refund.articles[0].article.id == "returns-and-refunds"
    assert kb.suggest(["", "  "]).scripts == []
    body = angry.as_dict()
    assert body["scripts"][0]["body"] and set(body) == {"scripts", "articles"}


def test_edits_are_picked_up_live_and_broken_edits_keep_the_last_good_index(encoder, tmp_path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("payment-methods.md", "returns-and-refunds.md", "invoices.md"):
        text = (ARTICLES_DIR / name).read_text()
        (folder / name).write_text(re.sub(r"(?m)^related: .*\n", "", text))  # the other articles are not here
    kb = KnowledgeBase(folder, tmp_path / "cache", encoder=encoder, reload_check_s=0)
    old = kb.answer("which payment methods do you accept")
    assert old.answered and "Visa" in old.as_dict()["spoken"]
    fingerprint = kb.fingerprint
    payment = folder / "payment-methods.md"
    payment.write_text(payment.read_text().replace("We accept Visa,", "We now accept Discover, Visa,"))
    new = kb.answer("which payment methods do you accept")
    assert "Discover" in new.as_dict()["spoken"] and kb.fingerprint != fingerprint
    assert (tmp_path / "cache" / f"knowledge-{encoder.model_id}.npz").exists()
    (folder / "invoices.md").write_text("---\nid: [broken\n---\n")
    still = kb.answer("which payment methods do you accept")
    assert "Discover" in still.as_dict()["spoken"]
    assert kb.status()["problems"] == 1 and kb.status()["articles"] == 3
    assert kb.problems[0].startswith(str(folder / "invoices.md"))


def test_ranking_scores() -> None:
    assert ranking_scores([1, 2, None, 3]) == {"count": 4, "recall_at_1": 0.25, "recall_at_3": 0.75, "mrr": 0.4583}


def test_held_out_questions_find_their_article(kb) -> None:
    """The eval set (written without seeing the articles): the issue's target is recall@3 >= 0.95."""
    report = evaluate(kb, load_set(TEST_SET))
    assert len(load_set(TEST_SET)["questions"]) >= 150
    assert report["retrieval"]["recall_at_3"] >= 0.95
    assert report["bot_answers"]["wrong_answer"] <= 0.03
    assert report["bot_answers"]["unanswerable_false_answer"] <= 0.05
    assert report["scripts"]["recall_at_3"] >= 0.9


@pytest.fixture(scope="module")
def api(kb) -> TestClient:
    app = FastAPI()
    app.state.knowledge = kb
    app.state.service_token = "service-token-of-the-tests-0123456789abcdef"
    app.include_router(router)
    return TestClient(app, headers={"Authorization": f"Bearer {app.state.service_token}"})


def test_api_answer_search_suggestions_and_articles(api) -> None:
    answer = api.post("/api/v1/knowledge/answer", json={"question": "do you take paypal", "intent": "check_payment_methods"})
    assert answer.status_code == 200 and answer.json()["article_id"] == "payment-methods" and answer.json()["answered"]
    hits = api.post("/api/v1/knowledge/search", json={"query": "coupon code", "kind": ["policy"], "limit": 2}).json()["hits"]
    assert len(hits) == 2 and hits[0]["id"] == "promotions-and-coupons" and {h["kind"] for h in hits} == {"policy"}
    suggestions = api.post(
        "/api/v1/knowledge/suggestions", json={"turns": ["this is ridiculous, nobody helps me"], "emotion": "angry"}
    ).json()
    assert suggestions["scripts"][0]["id"] == "script-angry-caller"
    listed = api.get("/api/v1/knowledge/articles", params={"kind": "script"}).json()
    assert listed and {a["kind"] for a in listed} == {"script"}
    article = api.get("/api/v1/knowledge/articles/warranty").json()
    assert article["kind"] == "policy" and article["spoken"]


def test_api_rejects_bad_requests(api) -> None:
    assert api.post("/api/v1/knowledge/answer", json={"question": ""}).status_code == 422
    assert api.post("/api/v1/knowledge/search", json={"query": "x", "kind": ["memo"]}).status_code == 422
    assert api.post("/api/v1/knowledge/suggestions", json={"turns": []}).status_code == 422
    missing = api.get("/api/v1/knowledge/articles/no-such-article")
    assert missing.status_code == 404 and missing.json()["error"] == "article_not_found"
    assert api.get("/api/v1/knowledge/articles/Not_An_Id").status_code == 422


def test_kb_ask_command_shows_the_ranking_and_the_bots_choice(capsys) -> None:
    assert main(["kb", "ask", "--json", "--kind", "policy", "do you take paypal"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bot"]["answered"] and result["bot"]["article_id"] == "payment-methods"
    assert result["hits"][0]["id"] == "payment-methods" and {h["kind"] for h in result["hits"]} == {"policy"}
