"""Related headlines: ``/v1/related`` (the index's headlines nearest a text)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from newstag.service.deps import State, require_index
from newstag.service.responses import ERRORS, json_response
from newstag.service.schemas import ErrorOut, RelatedIn
from newstag.service.worker import ApiError

router = APIRouter()

NO_INDEX = {404: {"model": ErrorOut, "description": "No related index is configured"}}


@router.post(
    "/v1/related", tags=["related"], summary="Related headlines", responses={**ERRORS, **NO_INDEX}
)
async def related(req: RelatedIn, state: State) -> Response:
    """Headlines from the configured index most related to the given text."""
    require_index(state)
    text = req.query_text()
    if not text:
        raise ApiError(422, "request: give text, or title and/or body")
    return json_response(await state.run("related", text, req.k, req.min_score))
