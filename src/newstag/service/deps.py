"""Dependencies the routers ask for (``Depends``): the worker's state (model runner, index,
settings), the request limits and the feedback store.

They only hand objects over; the checks that answer 503 (model not ready) and 404 (no index)
run inside the endpoints, after FastAPI has validated the request, so a bad request is a 4xx
naming the field whatever the model's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from newstag.service.feedback import FeedbackError
from newstag.service.settings import Settings
from newstag.service.state import ServiceState
from newstag.service.worker import ApiError

log = logging.getLogger(__name__)


def service_state(request: Request) -> ServiceState:
    """The state of the app answering ``request`` (set by ``create_app``)."""
    return request.app.state.newstag


State = Annotated[ServiceState, Depends(service_state)]
"""An endpoint parameter: the worker's :class:`ServiceState`."""


def service_settings(state: State) -> Settings:
    """The settings the service runs with."""
    return state.settings


@dataclass(frozen=True)
class Limits:
    """What a request may ask of the model."""

    allow_non_english: bool
    """Answer non-English articles (with a warning) instead of 422."""
    timeout: float
    """Seconds a request may take (504 above)."""


def request_limits(state: State) -> Limits:
    """The request limits of the service's settings."""
    return Limits(state.settings.allow_non_english, state.settings.timeout)


def require_index(state: ServiceState) -> None:
    """404 unless a related-headlines index is configured."""
    if not state.has_index():
        raise ApiError(
            404, "no related-headlines index is configured; start the service with --index DIR"
        )


class FeedbackWriter:
    """Stores feedback records in the worker's store (opened on first use, off the event
    loop); a store that cannot be written answers 503 saying the record was not stored."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state

    async def add(self, record: dict[str, Any]) -> int:
        """Store ``record`` durably; its row id."""
        try:
            row_id = await run_in_threadpool(lambda: self.state.store().add(record))
        except FeedbackError as exc:
            log.error("feedback not stored: %s", exc)
            raise ApiError(
                503, "feedback store unavailable; the record was NOT stored, retry later"
            ) from None
        self.state.metrics.feedback.inc()
        return row_id


def feedback_writer(state: State) -> FeedbackWriter:
    """The worker's feedback store, as a :class:`FeedbackWriter`."""
    return FeedbackWriter(state)


SettingsDep = Annotated[Settings, Depends(service_settings)]
LimitsDep = Annotated[Limits, Depends(request_limits)]
FeedbackDep = Annotated[FeedbackWriter, Depends(feedback_writer)]
