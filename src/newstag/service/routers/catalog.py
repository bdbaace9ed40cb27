"""The catalogue endpoints: ``/v1/model``, ``/v1/tags``, ``/v1/tags/check``, ``/v1/article``
and ``/v1/related/items/{id}`` (see :mod:`newstag.service.catalog`)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from newstag import __version__
from newstag.service.catalog import (
    ArticleOut,
    ItemOut,
    ModelOut,
    TagCheckOut,
    TagsOut,
    card,
    check_tag,
    match_tags,
    read_article,
    related_item,
)
from newstag.service.deps import LimitsDep, State, require_index
from newstag.service.responses import ERROR_MODEL
from newstag.service.schemas import ArticleIn
from newstag.service.worker import ApiError

router = APIRouter()


@router.get(
    "/v1/model",
    tags=["model"],
    response_model=ModelOut,
    summary="Which model answers",
    responses={503: ERROR_MODEL},
)
async def model_info(state: State) -> dict[str, Any]:
    """The model's name and version (send them with feedback), its vocabulary size and
    whether a related-headlines index is configured."""
    c = card(state)
    index = None
    if state.has_index():
        index = {"loaded": state.ready}
    return {
        **{k: c[k] for k in ("name", "mode", "version", "created", "pipeline")},
        "vocabulary": len(c["model_vocab"]),
        "newstag": __version__,
        "index": index,
        "house_rules": c["rules"] is not None,
    }


@router.get(
    "/v1/tags",
    tags=["model"],
    response_model=TagsOut,
    summary="Tags the model knows (type-ahead)",
    responses={422: ERROR_MODEL, 503: ERROR_MODEL},
)
async def tags(
    state: State,
    prefix: str = Query(
        "", max_length=200, description="Case-insensitive start of the tag or of one of its words."
    ),
    limit: int = Query(10, ge=1, le=100),
) -> dict[str, Any]:
    """Tags matching `prefix`, those starting with it first, most frequent first; an empty
    prefix lists the most frequent tags. Empty for an entities-only service. With house
    rules, tags are house-spelled and those the rules refuse are left out."""
    vocab = card(state)["vocab"]
    found = match_tags(vocab, prefix)
    return {
        "tags": [{"tag": t, "type": ty, "count": n} for t, ty, n in found[:limit]],
        "total": len(found),
        "vocabulary": len(vocab),
    }


@router.get(
    "/v1/tags/check",
    tags=["model"],
    response_model=TagCheckOut,
    summary="Check a tag an editor adds",
    responses={422: ERROR_MODEL, 503: ERROR_MODEL},
)
async def tag_check(
    state: State,
    tag: str = Query(..., min_length=1, max_length=300, description="The tag as typed."),
) -> dict[str, Any]:
    """The tag's house form (the vocabulary's spelling, case-insensitive match, then the
    house rules' spellings), whether the model knows it (`known`; otherwise it is a new
    tag) and whether the house rules allow it (`allowed`, with the `reason` if not)."""
    if not tag.strip():
        raise ApiError(422, "invalid request: tag: the tag is blank")
    c = card(state)
    return check_tag(tag, c["model_vocab"], c["rules"])


@router.post(
    "/v1/article",
    tags=["tags"],
    response_model=ArticleOut,
    summary="The text newstag reads from an article",
    responses={code: ERROR_MODEL for code in (400, 413, 415, 422, 504)},
)
async def article(req: ArticleIn, state: State, limits: LimitsDep) -> dict[str, Any]:
    """Headline and body after cleaning (an `html` page's story is extracted; scraped
    furniture such as share prompts is dropped). Tag and entity offsets of `/v1/suggest`
    point into `text` of this answer; `dropped` lists what was left out and why."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(read_article, req.record(), limits.allow_non_english), limits.timeout
        )
    except asyncio.TimeoutError:
        raise state.too_slow() from None


@router.get(
    "/v1/related/items/{item_id}",
    tags=["related"],
    response_model=ItemOut,
    summary="One headline of the related index",
    responses={
        404: {**ERROR_MODEL, "description": "No index, or no such item"},
        503: ERROR_MODEL,
        504: ERROR_MODEL,
    },
)
async def related_item_route(
    state: State, item_id: str = PathParam(..., max_length=500)
) -> dict[str, Any]:
    """The indexed headline, lead, date, url and tags of item `item_id` (404 when the id
    is unknown or no index is configured)."""
    require_index(state)
    return await state.call(related_item, item_id)
