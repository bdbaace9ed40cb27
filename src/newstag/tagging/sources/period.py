"""The ``period`` source: when each tag was in use, against the article's date.

Fitted on the dates of its training articles, it keeps each tag's first and last dated use,
how many dated uses it had and how many fell in the last :data:`RECENT_YEARS` of those
articles. For a candidate tag it tells the combiner how many years the article's date lies
after the tag's last use (0 inside its period) or before its first, how many uses the tag's
own rate predicts in that gap, and the tag's share of use in the latest years. Fitted per
held-out fold (``fold_split = "date"``), later blocks show real gaps, and the combiner
learns what staleness means ("2008-09 Bundesliga season" on a 2023 story).

The article's date is its ``date`` (ISO 8601 or the forms of
:func:`newstag.tagging.folds.date_key`); an undated article is dated ``Batch.today`` (the
held-out folds: the fitted articles' latest date, so training stays deterministic), else
today.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from newstag.tagging.folds import date_key
from newstag.tagging.sources.base import Batch, CandidateSource, TrainingSet, register_source

RECENT_YEARS = 2.0
"""The latest years of the fitted articles that ``period_recent_share`` counts."""
UNKNOWN = -1.0
"""The period features of a tag with no dated use (new tags, undated corpora)."""
FILE = "periods.json"


class PeriodFeatures(TypedDict):
    period_dated: float
    """1 when the article has its own date (else it is dated today)."""
    period_after_last: float
    """Years from the tag's last use to the article's date (0 inside its period)."""
    period_before_first: float
    """Years from the article's date to the tag's first use (0 from then on)."""
    period_missed_uses: float
    """Uses the tag's own rate (uses per year of its period) predicts in those gaps."""
    period_recent_share: float
    """Share of the tag's uses in the last ``RECENT_YEARS`` of the fitted articles."""


def year_of(when: dt.datetime | dt.date) -> float:
    """A date as a fractional year (2009-07-02 -> 2009.5)."""
    start = dt.date(when.year, 1, 1)
    day = when.date() if isinstance(when, dt.datetime) else when
    return when.year + (day - start).days / 365.25


def article_year(date: str | None, today: str | None = None) -> tuple[float, bool]:
    """The article's fractional year and whether it had a date of its own."""
    own = date_key(date)
    if own is not None:
        return year_of(own), True
    fallback = date_key(today)
    return year_of(fallback if fallback is not None else dt.date.today()), False


class TagPeriod:
    """One tag's dated use: first and last (fractional years), uses, recent uses."""

    __slots__ = ("first", "last", "n", "recent")

    def __init__(self, first: float, last: float, n: int, recent: int) -> None:
        self.first, self.last, self.n, self.recent = first, last, n, recent

    def to_list(self) -> list[float]:
        return [round(self.first, 4), round(self.last, 4), self.n, self.recent]


def tag_periods(
    years: Sequence[float | None], tags: Sequence[Sequence[str]]
) -> tuple[dict[str, TagPeriod], float | None]:
    """Each tag's period of use over the dated articles, and the latest article's year."""
    dated = [(y, ts) for y, ts in zip(years, tags, strict=True) if y is not None]
    if not dated:
        return {}, None
    end = max(y for y, _ in dated)
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    uses: dict[str, int] = {}
    recent: dict[str, int] = {}
    for year, ts in dated:
        for tag in set(ts):
            first[tag] = min(first.get(tag, year), year)
            last[tag] = max(last.get(tag, year), year)
            uses[tag] = uses.get(tag, 0) + 1
            recent[tag] = recent.get(tag, 0) + (year > end - RECENT_YEARS)
    periods = {t: TagPeriod(first[t], last[t], uses[t], recent[t]) for t in sorted(uses)}
    return periods, end


def period_features(period: TagPeriod | None, year: float, dated: bool) -> PeriodFeatures:
    """The features of one tag (``None``: no dated use) for an article of ``year``."""
    if period is None:
        return {
            "period_dated": float(dated),
            "period_after_last": UNKNOWN,
            "period_before_first": UNKNOWN,
            "period_missed_uses": UNKNOWN,
            "period_recent_share": UNKNOWN,
        }
    after = max(0.0, year - period.last)
    before = max(0.0, period.first - year)
    rate = period.n / max(1.0, period.last - period.first)
    return {
        "period_dated": float(dated),
        "period_after_last": after,
        "period_before_first": before,
        "period_missed_uses": rate * (after + before),
        "period_recent_share": period.recent / period.n,
    }


@register_source("period")
class PeriodSource(CandidateSource):
    """Each tag's period of use learned from the fitted articles' dates; proposes no tags."""

    part = "period"
    FEATURES = tuple(PeriodFeatures.__annotations__)

    def fit(self, data: TrainingSet) -> PeriodSource:
        dates = data.dates if data.dates is not None else [None] * len(data.tags)
        keys = [date_key(d) for d in dates]
        years = [year_of(k) if k is not None else None for k in keys]
        self.periods_, self.end_ = tag_periods(years, data.tags)
        return self

    def scan(self, batch: Batch) -> list[tuple[float, bool]]:
        dates = batch.dates if batch.dates is not None else [None] * len(batch.texts)
        return [article_year(d, batch.today) for d in dates]

    def features(self, state: tuple[float, bool], tag: str, new: bool) -> PeriodFeatures:
        year, dated = state
        return period_features(None if new else self.periods_.get(tag), year, dated)

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE
        data = {
            "recent_years": RECENT_YEARS,
            "end": self.end_,
            "columns": ["first", "last", "uses", "recent_uses"],
            "tags": {t: p.to_list() for t, p in self.periods_.items()},
        }
        path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
        return [path]

    def load_part(self, folder: Path | None) -> PeriodSource:
        if folder is None:
            raise ValueError("the period part is missing")
        data: dict[str, Any] = json.loads((folder / FILE).read_text(encoding="utf-8"))
        self.end_ = data["end"]
        self.periods_ = {
            t: TagPeriod(float(a), float(b), int(n), int(r))
            for t, (a, b, n, r) in data["tags"].items()
        }
        return self
