"""Held-out folds split by date: the combiner learns from articles later than the sources'.

``TagModel(fold_split="date")`` sorts the dated articles by date and cuts them into ``k``
contiguous blocks; each block is held out in turn while the candidate sources are fitted
on the others, so most held-out rows score articles from a period the sources did not
see (as a model in use scores tomorrow's news). Articles without a date (or with one
that cannot be read) are spread over the folds at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

DATE_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y", "%Y/%m/%d")
"""Date forms read besides ISO 8601 (Reuters-21578: ``26-FEB-1987 15:01:01.79``)."""


def date_key(text: str | None) -> datetime | None:
    """A date string as a naive datetime (ISO 8601 or :data:`DATE_FORMATS`), else None."""
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def date_folds(dates: Sequence[str | None], k: int, random_state: int = 0) -> list[tuple[Any, Any]]:
    """``k`` (train, held-out) index arrays: dated articles in contiguous date blocks.

    With fewer than ``k`` readable dates every article goes to a random fold.
    """
    import numpy as np

    keys = [date_key(d) for d in dates]
    dated = sorted((i for i, key in enumerate(keys) if key is not None), key=lambda i: (keys[i], i))
    undated = [i for i, key in enumerate(keys) if key is None]
    if len(dated) < k:
        dated, undated = [], list(range(len(dates)))
    held: list[list[int]] = [list(block) for block in np.array_split(np.array(dated, int), k)]
    rng = np.random.default_rng(random_state)
    for j, i in enumerate(rng.permutation(np.array(undated, int))):
        held[j % k].append(int(i))
    everything = np.arange(len(dates))
    folds = []
    for block in held:
        te = np.array(sorted(block), dtype=int)
        folds.append((np.setdiff1d(everything, te), te))
    return folds
