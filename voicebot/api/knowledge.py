"""Knowledge-base HTTP API: thin routes over the `KnowledgeBase` in ``app.state.knowledge``.

The bot's Rasa actions ask `/answer` (a spoken answer, or `answered: false` when
retrieval is unsure); agent-assist clients ask `/suggestions` with the caller's
latest turns. Routes are plain ``def``: embedding a query is CPU work for the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from knowledge.service import KnowledgeBase
from voicebot.api.access import api_client

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=[Depends(api_client)])

Kind = Literal["policy", "faq", "script"]
ArticleId = Annotated[str, Path(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    kind: list[Kind] | None = Field(None, description="Only these kinds")
    intent: list[str] | None = Field(None, description="Only articles listing one of these intents")
    tags: list[str] | None = Field(None, description="Only articles with one of these tags")
    limit: int = Field(3, ge=1, le=20)


class AnswerRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000, description="The caller's words")
    intent: str | None = Field(None, max_length=80, description="NLU's intent, used as a hint, not a filter")


class SuggestionRequest(BaseModel):
    turns: list[str] = Field(min_length=1, max_length=50, description="The caller's turns so far, oldest first")
    intent: str | None = Field(None, max_length=80)
    emotion: str | None = Field(None, max_length=40, description="The caller's emotion now (angry, frustrated, ...)")
    limit: int = Field(3, ge=1, le=10)


def _kb(request: Request) -> KnowledgeBase:
    return request.app.state.knowledge


def _not_found(article_id: str) -> JSONResponse:
    return JSONResponse({"error": "article_not_found", "message": f"no article {article_id!r}"}, 404)


@router.get("/articles")
def list_articles(request: Request, kind: Annotated[Kind | None, Query()] = None) -> list[dict[str, Any]]:
    return [
        {"id": a.id, "title": a.title, "kind": a.kind, "tags": list(a.tags), "intents": list(a.intents)}
        for a in _kb(request).index.articles
        if kind is None or a.kind == kind
    ]


@router.get("/articles/{article_id}", response_model=None)
def get_article(article_id: ArticleId, request: Request) -> dict[str, Any] | JSONResponse:
    article = _kb(request).index.article(article_id)
    if article is None:
        return _not_found(article_id)
    return {
        "id": article.id, "title": article.title, "kind": article.kind, "tags": list(article.tags),
        "intents": list(article.intents), "related": list(article.related), "language": article.language,
        "spoken": article.spoken, "body": article.body,
    }


@router.post("/search")
def search(body: SearchRequest, request: Request) -> dict[str, Any]:
    hits = _kb(request).search(body.query, kind=body.kind, intent=body.intent, tags=body.tags, limit=body.limit)
    return {"query": body.query, "hits": [h.as_dict() for h in hits]}


@router.post("/answer")
def answer(body: AnswerRequest, request: Request) -> dict[str, Any]:
    return _kb(request).answer(body.question, body.intent).as_dict()


@router.post("/suggestions")
def suggestions(body: SuggestionRequest, request: Request) -> dict[str, Any]:
    return _kb(request).suggest(body.turns, body.intent, body.emotion, body.limit).as_dict()
