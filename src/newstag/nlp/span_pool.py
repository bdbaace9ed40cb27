"""NER on several cores: forked worker processes that send back entity spans, not Docs.

spaCy's ``nlp.pipe(n_process=N)`` serialises every parsed ``Doc`` in its worker
(``Doc.to_bytes``) and rebuilds it in the parent (``Doc.from_bytes``): about 2 ms of CPU
per news story, a tenth of the NER itself, although newstag reads only the entity spans.
The workers here run the same pipeline on the same batches (so they find the same spans)
and send back ``(label, start, end)`` triples, a few hundred bytes per story.

Workers are forked from the process that loaded the pipeline, so they share its memory
and start at once; where ``fork`` is not available :func:`can_fork` is False and callers
keep ``nlp.pipe``.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

Span = tuple[str, int, int]
"""An entity span of a text: ``(label, start_char, end_char)``."""

BATCHES_PER_WORKER = 2
"""Batches queued per worker: enough to keep it busy, few enough to stream the input."""

_WORKER: dict[str, Any] = {}


def can_fork() -> bool:
    """True where worker processes can be forked (they then share the loaded pipeline)."""
    return "fork" in mp.get_all_start_methods()


def _init_worker(nlp: Language, batch_size: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER["nlp"], _WORKER["batch_size"] = nlp, batch_size


def _parse_batch(texts: list[str]) -> list[list[Span]]:
    """The entity spans of each text of one batch (run in a worker)."""
    docs = _WORKER["nlp"].pipe(texts, batch_size=_WORKER["batch_size"])
    return [[(e.label_, e.start_char, e.end_char) for e in doc.ents] for doc in docs]


def pipe_spans(
    nlp: Language, items: Iterable[tuple[str, Any]], batch_size: int, n_process: int
) -> Iterator[tuple[list[Span], Any]]:
    """``(spans, context)`` for each ``(text, context)`` of ``items``, in order.

    Like ``nlp.pipe(items, as_tuples=True, batch_size=batch_size, n_process=n_process)``,
    but each worker returns only the entity spans of its batch. ``items`` is read as the
    workers need it (:data:`BATCHES_PER_WORKER` batches ahead per worker), never held whole.
    """
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        n_process,
        mp_context=mp.get_context("fork"),
        initializer=_init_worker,
        initargs=(nlp, batch_size),
    )
    pending: deque[tuple[Future[list[list[Span]]], list[Any]]] = deque()
    source = iter(items)
    finished = False
    try:
        while True:
            while len(pending) < BATCHES_PER_WORKER * n_process and (
                batch := list(islice(source, batch_size))
            ):
                texts, contexts = zip(*batch, strict=True)
                pending.append((pool.submit(_parse_batch, list(texts)), list(contexts)))
            if not pending:
                break
            future, contexts = pending.popleft()
            yield from zip(future.result(), contexts, strict=True)
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=not finished)
