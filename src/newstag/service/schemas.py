"""Request and response bodies of the HTTP API (pydantic models, shown in ``/openapi.json``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_BATCH = 64
"""Largest number of articles in one ``/v1/suggest/batch`` request."""

LIST_FIELDS = ("suggested", "accepted", "rejected", "added")
"""The tag lists of a feedback record."""

MAX_TAGS = 500
"""Largest number of tags in one list of a feedback record."""


class _Strict(BaseModel):
    """Unknown fields are an error, so a typo in a CMS hook shows at once; text must be valid
    Unicode (JSON can smuggle in lone surrogates such as ``"\\ud800"``)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _valid_unicode(self) -> _Strict:
        for name in type(self).model_fields:
            value = getattr(self, name)
            texts = value if isinstance(value, list) else [value]
            for text in texts:
                if isinstance(text, str):
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ValueError(
                            f"{name}: text is not valid Unicode (a lone surrogate such as \\ud800)"
                        ) from None
        return self


class ArticleIn(_Strict):
    """One article: ``title`` + ``body`` (or ``headline``, ``text``), or an ``html`` page."""

    title: str | None = Field(None, description="Headline.", examples=["Putin meets Kim"])
    headline: str | None = Field(None, description="Alias of title.")
    body: str | None = Field(None, description="Article text (plain).")
    text: str | None = Field(None, description="Alias of body.")
    html: str | None = Field(None, description="A whole HTML page; the story is extracted.")
    id: str | None = Field(None, description="Your article id (echoed back).")
    date: str | None = Field(None, description="Publication date (ISO 8601).")

    def record(self) -> dict[str, Any]:
        """The fields that were set, as a record for ``newstag.io.article.from_record``."""
        return self.model_dump(include=set(ArticleIn.model_fields), exclude_none=True)


class SuggestIn(ArticleIn):
    """``POST /v1/suggest``: an article plus how many tags to return."""

    top_k: int = Field(10, ge=1, le=100, strict=True, description="Most tags to return.")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="Drop tags scoring below this.")


class EntitiesIn(ArticleIn):
    """``POST /v1/entities``: an article."""


class BatchIn(_Strict):
    """``POST /v1/suggest/batch``: up to 64 articles, each an :class:`ArticleIn` object.

    Items are checked one by one: a bad item is reported by its index in ``errors`` and the
    good ones are still answered.
    """

    articles: list[Any] = Field(
        ...,
        min_length=1,
        max_length=MAX_BATCH,
        description="Articles, each shaped like ArticleIn.",
        json_schema_extra={"items": ArticleIn.model_json_schema()},  # inline: no dangling $ref
    )
    top_k: int = Field(10, ge=1, le=100, strict=True)
    min_score: float = Field(0.0, ge=0.0, le=1.0)


class RelatedIn(_Strict):
    """``POST /v1/related``: a headline or text to find related headlines for."""

    text: str | None = Field(None, description="Headline or article text.")
    title: str | None = Field(None, description="Headline (joined with body when both given).")
    body: str | None = None
    k: int = Field(10, ge=1, le=100, strict=True, description="Number of results.")
    min_score: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Drop results scoring below this (default: newstag's noise floor, 0.01).",
    )

    def query_text(self) -> str:
        parts = [p.strip() for p in (self.title, self.body, self.text) if p and p.strip()]
        return "\n\n".join(parts)


Tag = Annotated[str, Field(max_length=300)]
_TAG = Field(default_factory=list, max_length=MAX_TAGS)


class FeedbackIn(_Strict):
    """``POST /v1/feedback``: what the editor did with the suggestions for one article.

    Send ``title`` and ``body`` too if the feedback should become training data
    (``newstag feedback export``); records without text are stored but not exported.
    """

    article_id: str = Field(..., min_length=1, max_length=500)
    suggested: list[Tag] = _TAG
    accepted: list[Tag] = _TAG
    rejected: list[Tag] = _TAG
    added: list[Tag] = _TAG
    title: str | None = None
    body: str | None = None
    date: str | None = None
    model: str | None = Field(None, max_length=500, description="Model that made the suggestions.")
    editor: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _says_something(self) -> FeedbackIn:
        """Feedback must name at least one tag: suggested, accepted, rejected or added."""
        if not any(tag.strip() for name in LIST_FIELDS for tag in getattr(self, name)):
            raise ValueError(
                "feedback names no tag: give at least one of suggested, accepted, rejected or added"
            )
        return self


class FeedbackOut(BaseModel):
    id: int = Field(..., description="Row id in the feedback store.")
    stored: bool = True


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer: a one-line ``error`` and, for validation errors, ``detail``."""

    error: str
    detail: Any = None


class BatchOut(BaseModel):
    results: list[dict[str, Any] | None] = Field(
        ..., description="One suggest result per input article (null where it failed)."
    )
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="[{index, error, detail?}] for the failed articles."
    )
