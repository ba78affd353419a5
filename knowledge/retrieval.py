"""Hybrid retrieval over the knowledge articles: MiniLM embeddings plus BM25.

Each article is indexed as several short passages (title, spoken answer, example
questions, body paragraphs), and its dense score is the best cosine between the
query and any of them: a caller's question usually matches one passage, not the
whole article. BM25 over the article's whole text catches exact terms ("VAT",
"PayPal") that embeddings blur, and a one-edit spelling fix against the index's own
vocabulary rescues typos ("refnud") before BM25 sees them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from knowledge.content import Article
from knowledge.encoder import EmbeddingCache, SentenceEncoder

# How the two rankers are blended; chosen on eval/data/kb_questions_dev.yaml.
DENSE_WEIGHT = 0.7
# BM25 scores are unbounded; bm25 / (bm25 + LEXICAL_HALF) maps them into 0..1 (0.5 at LEXICAL_HALF).
LEXICAL_HALF = 6.0
# Added when an article lists the caller's predicted intent, or a preferred tag.
INTENT_BONUS = 0.05
TAG_BONUS = 0.05

STOPWORDS = frozenset(
    """a about am an and any are as at be been but by can could did do does doing for from get got
    had has have hello hey hi how i i'm if in into is it it's its just like me my of on or our please
    so some than that the their them then there these they this to too um uh was we were what when
    where which who why will with would you your yes ok okay well want need know tell""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A light suffix strip: enough to match "refunds"/"refunded"/"refunding" to "refund"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower().replace("'", "")) if w not in STOPWORDS]


class SpellingFixer:
    """Maps a word one edit away from a known term onto it (symmetric-delete lookup, fast)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = set(vocabulary)
        self._by_delete: dict[str, str] = {}
        for word in sorted(self.vocabulary):
            if len(word) >= 4:
                for variant in self._deletes(word):
                    self._by_delete.setdefault(variant, word)

    @staticmethod
    def _deletes(word: str) -> set[str]:
        return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}

    def fix(self, term: str) -> str:
        if term in self.vocabulary or len(term) < 4 or term.isdigit():
            return term
        for variant in sorted(self._deletes(term)):
            if variant in self._by_delete:
                return self._by_delete[variant]
        return term


class BM25:
    """Okapi BM25 over tokenised documents."""

    def __init__(self, documents: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.frequencies = [Counter(doc) for doc in documents]
        self.lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        self.average_length = float(self.lengths.mean()) if len(documents) else 0.0
        document_frequency = Counter(term for doc in documents for term in set(doc))
        n = len(documents)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in document_frequency.items()}

    def scores(self, query: Iterable[str]) -> np.ndarray:
        out = np.zeros(len(self.frequencies), dtype=np.float32)
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.average_length, 1e-9))
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([f.get(term, 0) for f in self.frequencies], dtype=np.float32)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


@dataclass(frozen=True)
class Hit:
    """One retrieved article: `score` (0..1) blends the dense and lexical evidence."""

    article: Article
    score: float
    dense: float
    lexical: float
    passage: str  # the passage that matched the query best

    def as_dict(self) -> dict:
        a = self.article
        return {
            "id": a.id, "title": a.title, "kind": a.kind, "tags": list(a.tags), "intents": list(a.intents),
            "spoken": a.spoken, "body": a.body, "related": list(a.related),
            "score": round(self.score, 4), "dense": round(self.dense, 4), "lexical": round(self.lexical, 4),
            "matched": self.passage,
        }


def passages(article: Article) -> list[str]:
    """The short texts an article is found by."""
    texts = [article.title]
    if article.spoken:
        texts.append(article.spoken)
    texts.extend(article.questions)
    for paragraph in re.split(r"\n\s*\n", article.body):
        paragraph = " ".join(re.sub(r"[*_#>`]", "", paragraph).split())
        if paragraph:
            texts.append(paragraph)
    return texts


def _wanted(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


class KnowledgeIndex:
    """Articles, their passage embeddings and BM25 statistics, ready to search."""

    def __init__(self, articles: Sequence[Article], encoder: SentenceEncoder, cache: EmbeddingCache | None = None) -> None:
        self.articles = list(articles)
        self.encoder = encoder
        self.passage_texts: list[str] = []
        owners: list[int] = []
        for number, article in enumerate(self.articles):
            for text in passages(article):
                self.passage_texts.append(text)
                owners.append(number)
        self.passage_owner = np.array(owners, dtype=np.int64)
        if not self.passage_texts:
            self.passage_vectors = np.zeros((0, encoder.dimension), dtype=np.float32)
        elif cache is not None:
            self.passage_vectors = cache.embed(encoder, self.passage_texts, prune=True)
        else:
            self.passage_vectors = encoder.encode(self.passage_texts)
        documents = [
            terms(" ".join([a.title, a.title, " ".join(a.tags), a.spoken or "", " ".join(a.questions), a.body]))
            for a in self.articles
        ]
        self.bm25 = BM25(documents)
        self.speller = SpellingFixer(self.bm25.idf)

    def search(
        self,
        query: str,
        *,
        kind: str | Iterable[str] | None = None,
        intent: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        prefer_intent: str | None = None,
        prefer_tags: Iterable[str] = (),
        limit: int = 3,
    ) -> list[Hit]:
        """Best articles for `query`, best first.

        `kind`, `intent` and `tags` are filters (an article must match one of the given
        values); `prefer_intent` and `prefer_tags` only nudge the ranking.
        """
        kinds, intents, tag_set = _wanted(kind), _wanted(intent), _wanted(tags)
        allowed = [
            i
            for i, a in enumerate(self.articles)
            if (kinds is None or a.kind in kinds)
            and (intents is None or intents & set(a.intents))
            and (tag_set is None or tag_set & set(a.tags))
        ]
        if not allowed or not query.strip():
            return []
        vector = self.encoder.encode([query])[0]
        similarity = self.passage_vectors @ vector
        best_passage = np.full(len(self.articles), -1, dtype=np.int64)
        dense = np.full(len(self.articles), -1.0, dtype=np.float32)
        for passage, (owner, value) in enumerate(zip(self.passage_owner, similarity)):
            if value > dense[owner]:
                dense[owner], best_passage[owner] = value, passage
        raw = self.bm25.scores(self.speller.fix(t) for t in terms(query))
        lexical = raw / (raw + LEXICAL_HALF)
        preferred_tags = set(prefer_tags)
        hits = []
        for i in allowed:
            a = self.articles[i]
            score = DENSE_WEIGHT * max(float(dense[i]), 0.0) + (1 - DENSE_WEIGHT) * float(lexical[i])
            if prefer_intent and prefer_intent in a.intents:
                score += INTENT_BONUS
            if preferred_tags & set(a.tags):
                score += TAG_BONUS
            passage = self.passage_texts[best_passage[i]] if best_passage[i] >= 0 else a.title
            hits.append(Hit(a, min(score, 1.0), float(dense[i]), float(lexical[i]), passage))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)
