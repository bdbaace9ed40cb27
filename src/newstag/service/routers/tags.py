"""Tag suggestions and entities: ``/v1/suggest``, ``/v1/suggest/batch``, ``/v1/entities``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from newstag.service.deps import LimitsDep, State
from newstag.service.responses import ERRORS, json_response
from newstag.service.schemas import BatchIn, BatchOut, EntitiesIn, SuggestIn
from newstag.service.worker import ApiError

router = APIRouter()


@router.post("/v1/suggest", tags=["tags"], summary="Suggest tags for one article", responses=ERRORS)
async def suggest(req: SuggestIn, state: State, limits: LimitsDep) -> Response:
    """The same JSON as `newstag suggest --format json`: `tags`, `entities`, `title`,
    `warnings`, `source` (and `id` when given)."""
    return json_response(
        await state.suggest((req.record(), limits.allow_non_english, req.top_k, req.min_score))
    )


@router.post(
    "/v1/suggest/batch",
    tags=["tags"],
    response_model=BatchOut,
    summary="Suggest tags for up to 64 articles",
    responses=ERRORS,
)
async def suggest_batch(req: BatchIn, state: State, limits: LimitsDep) -> Response:
    """Each article is checked on its own: a bad one is listed in `errors` by `index`, the
    good ones are answered in `results` (same positions as the input). 422 when none is
    good."""
    body, n_ok, errors = await state.run(
        "suggest_batch", req.articles, limits.allow_non_english, req.top_k, req.min_score
    )
    if not n_ok:
        raise ApiError(422, "no valid article in the batch", errors)
    return json_response(body)


@router.post(
    "/v1/entities", tags=["entities"], summary="Named entities of one article", responses=ERRORS
)
async def entities(req: EntitiesIn, state: State, limits: LimitsDep) -> Response:
    """People, places, organisations and groups, most salient first."""
    return json_response(await state.run("entities", req.record(), limits.allow_non_english))
