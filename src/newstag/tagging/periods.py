"""Tag info: a bundle's ``tag_info.json`` (each tag's period of use, type and level) and the
period-of-use prior (a tag that went out of use long before the article's year fades)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from newstag.io.article import Article
    from newstag.tagging import TagModel

IN_USE_GRACE = 5
"""Years after a tag's last (or before its first) use before the period prior bites."""


PERIOD_DECAY = 3.0
"""Years over which the period prior falls by a factor e beyond the grace."""


OUT_OF_USE_EXPECTED = 3.0
"""Uses a tag's own rate predicts after its last use (0 seen) that mark it out of use."""


@lru_cache(maxsize=8)
def _read_tag_info(path: str) -> dict[str, Any]:
    file = Path(path) / "tag_info.json"
    if not file.exists():
        return {}
    return json.loads(file.read_text(encoding="utf-8"))


def tag_info(model: TagModel) -> dict[str, Any]:
    """The bundle's ``tag_info.json`` (``{}`` when the bundle has none)."""
    path = getattr(model, "path_", None)
    return _read_tag_info(str(path)) if path else {}


def article_year(article: Article, today: dt.date | None = None) -> int:
    """The year of the article's date when it has one (``YYYY...``), else this year."""
    date = (getattr(article, "date", None) or "").strip()
    if len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return (today or dt.date.today()).year


def out_of_use(row: dict[str, Any], per_year: dict[str, int]) -> bool:
    """The tag went out of use: at its own rate (in its period, against the corpus's articles
    per year) it would have been used ``OUT_OF_USE_EXPECTED`` more times after its last use."""
    inside = sum(n for y, n in per_year.items() if row["first"] <= int(y) <= row["last"])
    after = sum(n for y, n in per_year.items() if int(y) > row["last"])
    return inside > 0 and row["n"] * after / inside >= OUT_OF_USE_EXPECTED


def period_prior(row: dict[str, Any] | None, year: int, info: dict[str, Any]) -> float:
    """How likely a tag still is in ``year``, from its period of use in the training years.

    1 for places (they do not go out of use), inside the period and for tags still in use;
    beyond ``IN_USE_GRACE`` years after a finished period (or before a late start) it decays
    by e every ``PERIOD_DECAY`` years.
    """
    per_year = info.get("per_year")
    if not row or not per_year or "last" not in row or row.get("type") == "place":
        return 1.0
    gap = 0
    if year > row["last"] and out_of_use(row, per_year):
        gap = year - row["last"]
    elif year < row["first"] and row["first"] > int(min(per_year)) + IN_USE_GRACE:
        gap = row["first"] - year
    return math.exp(-max(0, gap - IN_USE_GRACE) / PERIOD_DECAY)


def named_in(tag: str, text: str) -> bool:
    """The story writes the tag's name ("Bundesliga"): the tag is in use now, whatever its
    period in the training years (a league outlives its Wikinews category)."""
    bare = tag.split("(")[0].strip()
    return bool(bare) and re.search(rf"\b{re.escape(bare)}\b", text, re.IGNORECASE) is not None


def recorded_type(model: TagModel, tag: str) -> str:
    """A vocabulary tag's type as recorded: ``tag_info.json`` first, then the manifest."""
    row = tag_info(model).get("tags", {}).get(tag)
    if row:
        return row["type"]
    return model.tag_types_.get(tag, "topic") if hasattr(model, "tag_types_") else "topic"
