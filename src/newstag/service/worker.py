"""Model work of the service: parse the request's article, run the tagger, encode the JSON.

The same functions run on a thread of the web worker (``--model-processes 0``) or in a pool
of model processes (``--model-processes N``), where :func:`init_process` loads the tagger
once per process and :func:`call` dispatches to them. Results come back as encoded JSON
so the web process does no heavy work; errors as :class:`ApiError` (picklable).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, is_dataclass
from typing import Any

from pydantic import ValidationError

from newstag.errors import NewstagError
from newstag.jobs.loop import TagFailure, tag_batch
from newstag.service.schemas import ArticleIn


class ApiError(NewstagError):
    """An error answered as ``{"error": message, "detail": detail}`` with ``status``."""

    def __init__(self, status: int, message: str, detail: Any = None) -> None:
        super().__init__(status, message, detail)
        self.status, self.message, self.detail = status, message, detail

    def __str__(self) -> str:
        return self.message


def plain(obj: Any) -> Any:
    """``json.dumps`` fallback: ``to_dict``, dataclasses, numpy values, sets, dates."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=plain).encode()


def validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as JSON-safe ``{loc, msg, type}`` items (never the raw input)."""
    out = []
    for err in errors[:20]:
        loc = [p if isinstance(p, (int, str)) else str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return out


def summarise(detail: list[dict[str, Any]]) -> str:
    if not detail:
        return "invalid request"
    first = detail[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
    msg = first["msg"].removeprefix("Value error, ")
    return f"invalid request: {where + ': ' if where else ''}{msg}{more}"


def to_article(record: dict[str, Any], source: str, allow_non_english: bool) -> Any:
    """An :class:`~newstag.io.article.Article` or an :class:`ApiError` (422) naming ``source``."""
    from newstag.io.article import ArticleError, from_record, looks_english

    try:
        article = from_record(record, source)
    except ArticleError as exc:
        raise ApiError(422, str(exc)) from None
    if not allow_non_english and not looks_english(article.text):
        raise ApiError(
            422, f"{source}: text does not look like English; newstag's models read English only"
        )
    return article


def warm_up(tagger: Any) -> None:
    """One tiny request so the first real one does not pay for lazy loading."""
    from newstag.io.article import Article

    tagger.suggest(Article(title="Warm-up", body="The Prime Minister visited Paris on Monday."))


# ---------------------------------------------------------------------------
# The work functions: (tagger, index, *args) -> encoded JSON
# ---------------------------------------------------------------------------


def suggest(
    tagger: Any, index: Any, record: dict[str, Any], allow: bool, top_k: int, min_score: float
) -> bytes:
    article = to_article(record, "request", allow)
    result = tagger.suggest(article, top_k=top_k, min_score=min_score)
    result.setdefault("source", article.source)  # as `newstag suggest` adds it
    return dumps(result)


def suggest_group(tagger: Any, index: Any, items: list[tuple[Any, ...]]) -> list[Any]:
    """Several ``/v1/suggest`` requests ``(record, allow, top_k, min_score)`` in one
    ``suggest_many`` call; returns, per request, its JSON or the exception to raise."""
    out: list[Any] = [None] * len(items)
    groups: dict[tuple[int, float], list[tuple[int, Any]]] = {}
    for i, (record, allow, top_k, min_score) in enumerate(items):
        try:
            groups.setdefault((top_k, min_score), []).append(
                (i, to_article(record, "request", allow))
            )
        except ApiError as exc:
            out[i] = exc
    for (top_k, min_score), members in groups.items():
        results = tag_batch(tagger, [a for _, a in members], top_k, min_score)
        for (i, article), result in zip(members, results, strict=True):
            if isinstance(result, TagFailure):  # one bad article does not fail the others
                out[i] = result.error or ApiError(500, f"internal error ({result.kind})")
                continue
            result.setdefault("source", article.source)  # as `newstag suggest` adds it
            out[i] = dumps(result)
    return out


def suggest_batch(
    tagger: Any, index: Any, items: list[Any], allow: bool, top_k: int, min_score: float
) -> tuple[bytes, int, list[dict[str, Any]]]:
    """Each item checked on its own; returns (JSON, number answered, errors by index)."""
    results: list[Any] = [None] * len(items)
    errors: list[dict[str, Any]] = []
    good: list[tuple[int, Any]] = []
    for i, item in enumerate(items):
        source = f"articles[{i}]"
        try:
            if not isinstance(item, dict):
                raise ApiError(422, f"{source}: expected a JSON object")
            try:
                parsed = ArticleIn.model_validate(item)
            except ValidationError as exc:
                detail = validation_detail(exc.errors())
                raise ApiError(422, f"{source}: {summarise(detail)}", detail) from None
            good.append((i, to_article(parsed.record(), source, allow)))
        except ApiError as exc:
            err: dict[str, Any] = {"index": i, "error": exc.message}
            if exc.detail is not None:
                err["detail"] = exc.detail
            errors.append(err)
    outs = tag_batch(tagger, [a for _, a in good], top_k, min_score)
    answered = 0
    for (i, article), out in zip(good, outs, strict=True):
        if isinstance(out, TagFailure):  # reported like a bad article; the others answered
            why = str(out.error or f"could not be tagged (internal error, {out.kind})")
            errors.append({"index": i, "error": f"{article.source}: {why}"})
            continue
        out.setdefault("source", article.source)
        results[i] = out
        answered += 1
    errors.sort(key=lambda e: e["index"])
    return dumps({"results": results, "errors": errors}), answered, errors


def entities(tagger: Any, index: Any, record: dict[str, Any], allow: bool) -> bytes:
    article = to_article(record, "request", allow)
    ents = tagger.entities(article)
    return dumps(
        {"title": article.title, "entities": list(ents), "warnings": list(article.warnings)}
    )


def related(tagger: Any, index: Any, text: str, k: int, min_score: float | None = None) -> bytes:
    try:
        hits = index.query(text=text, k=k, min_score=min_score)
    except ValueError as exc:  # RelatedError: a query the index cannot answer
        raise ApiError(422, f"request: {exc}") from None
    return dumps({"results": hits})


def info(tagger: Any, index: Any, delay: float = 0.0) -> dict[str, Any]:
    """Who answers: pid, tagger mode and pipeline (``delay`` spreads warm-up calls)."""
    import time

    time.sleep(delay)
    return {
        "pid": os.getpid(),
        "mode": getattr(tagger, "mode", None),
        "pipeline": getattr(getattr(tagger, "extractor", None), "pipeline_name", None),
        "index": index is not None,
    }


WORK = {f.__name__: f for f in (suggest, suggest_group, suggest_batch, entities, related, info)}


# ---------------------------------------------------------------------------
# Model processes
# ---------------------------------------------------------------------------

_PROCESS: dict[str, Any] = {}


def load(
    model: str | None, pipeline: str | None, index: str | None, rules: str | None = None
) -> tuple[Any, Any]:
    """Load and warm the tagger (with house ``rules``; from this process's tagger cache,
    :mod:`newstag.jobs.cache`), and the related index when named."""
    from newstag.jobs.cache import cached_tagger

    tagger = cached_tagger(model, pipeline, rules)
    warm_up(tagger)
    idx = None
    if index:
        from newstag.related import RelatedIndex

        idx = RelatedIndex.load(index)
    return tagger, idx


def init_process(
    model: str | None,
    pipeline: str | None,
    index: str | None,
    started: Any = None,
    rules: str | None = None,
) -> None:
    """Pool initializer: load the model once in this process, then put its pid on ``started``."""
    _PROCESS["tagger"], _PROCESS["index"] = load(model, pipeline, index, rules)
    if started is not None:
        started.put(os.getpid())


def call(name: str, *args: Any) -> Any:
    """Run work function ``name`` in a model process."""
    return WORK[name](_PROCESS["tagger"], _PROCESS["index"], *args)
