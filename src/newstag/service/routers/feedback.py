"""Editors' feedback: ``/v1/feedback`` (which suggestions the editor kept)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from newstag.service.deps import FeedbackDep
from newstag.service.responses import ERRORS
from newstag.service.schemas import LIST_FIELDS, FeedbackIn, FeedbackOut

router = APIRouter()


@router.post(
    "/v1/feedback",
    tags=["feedback"],
    status_code=201,
    response_model=FeedbackOut,
    summary="Record what the editor kept",
    responses=ERRORS,
)
async def feedback(req: FeedbackIn, store: FeedbackDep) -> dict[str, Any]:
    """Stored durably (committed) before the 201 answer; export it with
    `newstag feedback export`."""
    record = req.model_dump()
    for key in LIST_FIELDS:
        record[key] = [t.strip() for t in record[key] if t.strip()]
    return {"id": await store.add(record), "stored": True}
