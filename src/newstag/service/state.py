"""What one web worker holds: the model (in this process or a pool of model processes), the
related index, the feedback store and the metrics; and how requests run model work on it.

Model work (see :mod:`newstag.service.worker`) runs off the event loop, under the
per-request time limit: on one thread of the web worker by default, or on a pool of
``model_processes`` model processes, which spreads concurrent requests evenly over cores.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from newstag.service import worker
from newstag.service.feedback import FeedbackStore, open_store
from newstag.service.metrics import Metrics
from newstag.service.settings import Settings
from newstag.service.worker import ApiError

log = logging.getLogger(__name__)


class ServiceState:
    """What one web worker holds: the model (in-process or a process pool), the feedback
    store and the metrics."""

    def __init__(
        self,
        settings: Settings,
        tagger: Any = None,
        index: Any = None,
        store: FeedbackStore | None = None,
    ) -> None:
        self.settings = settings
        self.tagger = tagger
        self.index = index
        self.procs = settings.model_processes if tagger is None else 0
        self.loaded = tagger is not None and (index is not None or not settings.index)
        self.load_error: str | None = None
        self.info: dict[str, Any] = {}
        self._store = store
        self._store_lock = threading.Lock()
        self.metrics = Metrics()
        self.catalog: dict[str, Any] = {}
        """The model's card and vocabulary, once read (:mod:`newstag.service.catalog`)."""
        self.executor: Executor = self._new_executor()
        self._pending: list[tuple[Any, asyncio.Future[bytes]]] = []
        self._dispatcher: asyncio.Task[None] | None = None
        if self.loaded:
            self.info = {**worker.info(tagger, index), "pid": [os.getpid()]}
            self.metrics.ready.set(1)

    def _new_executor(self) -> Executor:
        if not self.procs:
            return ThreadPoolExecutor(self.settings.threads, thread_name_prefix="newstag-model")
        s = self.settings
        ctx = multiprocessing.get_context("spawn")
        self._started = ctx.Queue()  # each model process puts its pid once loaded
        return ProcessPoolExecutor(
            self.procs,
            mp_context=ctx,
            initializer=worker.init_process,
            initargs=(s.model, s.pipeline, s.index, self._started, s.rules),
        )

    @property
    def ready(self) -> bool:
        return self.loaded and self.load_error is None

    def load(self) -> None:
        """Load the model named by the settings (here or in every model process)."""
        try:
            info = self._load_pool() if self.procs else self._load_here()
            self.info = info
            self.loaded = True
            self.metrics.ready.set(1)
        except Exception as exc:  # reported by /readyz; the web worker stays up
            self.load_error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, BrokenProcessPool):
                self.load_error = "a model process failed to start (see the server log)"
            log.error("model failed to load: %s", self.load_error)

    def _load_here(self) -> dict[str, Any]:
        """Load the tagger and index in this process (unless given); their info."""
        if self.tagger is None:
            s = self.settings
            self.tagger, self.index = worker.load(s.model, s.pipeline, s.index, s.rules)
        return {**worker.info(self.tagger, self.index), "pid": [os.getpid()]}

    def _load_pool(self) -> dict[str, Any]:
        """Start every model process (one call each) and wait until all have loaded."""
        futures = [self.executor.submit(worker.call, "info") for _ in range(self.procs)]
        info = futures[0].result()  # raises BrokenProcessPool when loading fails
        pids: set[int] = set()
        while len(pids) < self.procs:
            try:
                pids.add(self._started.get(timeout=1))
            except queue.Empty:  # still loading, or broken (raises here)
                self.executor.submit(worker.call, "info").result()
        return {**info, "pid": sorted(pids)}  # model processes

    def store(self) -> FeedbackStore:
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self.settings.feedback_db)
            return self._store

    def close(self) -> None:
        executor = self.executor
        procs = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        # uvicorn ends on SIGTERM by raising the signal again once it has shut down, which
        # kills this process before the pool's manager thread has stopped the model processes
        # (they were left running, ~0.4 GB each): wait for them here, then stop stragglers
        deadline = time.monotonic() + 10
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.terminate()
        if self._store is not None:
            self._store.close()

    def check_ready(self) -> None:
        """Raise 503 while the model loads or when it failed to."""
        if not self.ready:
            if self.load_error:
                raise ApiError(503, f"model failed to load: {self.load_error}")
            raise ApiError(503, "model is still loading; retry shortly")

    def has_index(self) -> bool:
        """A related-headlines index is configured (loaded or loading)."""
        return self.index is not None or bool(self.settings.index)

    def _submit(self, func: Callable[..., Any], *args: Any) -> Future:
        if self.procs:
            return self.executor.submit(in_model_process, func, *args)
        return self.executor.submit(func, self.tagger, self.index, *args)

    def _pool_died(self, executor: Executor) -> ApiError:
        """503 for a request whose model process died; the first such request (of those that
        were running on the broken ``executor``) starts a new pool."""
        if executor is self.executor:
            log.error("a model process died; starting a new pool")
            self.executor = self._new_executor()
            executor.shutdown(wait=False, cancel_futures=True)
        return ApiError(503, "a model process died; retry the request")

    def too_slow(self) -> ApiError:
        """504: the request went over the time limit."""
        return ApiError(504, f"request took longer than the {self.settings.timeout:g} s limit")

    async def run(self, name: str, *args: Any) -> Any:
        """Run work function ``name`` of :mod:`~newstag.service.worker` under the time limit."""
        return await self.call(worker.WORK[name], *args)

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(tagger, index, *args)`` where the model lives, under the time limit (504
        when over it, 503 when the model is not ready or its process died). ``func`` must be
        a module-level function (a model process gets it by name)."""
        self.check_ready()
        executor = self.executor
        future = None
        try:
            future = self._submit(func, *args)  # raises when the pool is already broken
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.timeout)
        except asyncio.TimeoutError:
            if future is not None:
                future.cancel()
            raise self.too_slow() from None
        except BrokenProcessPool:  # a model process died (killed, out of memory)
            raise self._pool_died(executor) from None

    # -- micro-batching of /v1/suggest ------------------------------------------------

    async def suggest(self, item: tuple[Any, ...]) -> bytes:
        """Answer one ``/v1/suggest`` item, batched with the requests waiting beside it.

        At most one batch per model thread/process runs at a time; requests arriving while
        they are busy wait and go together (up to ``batch_requests``) in the next batch
        (``Tagger.suggest_many``), which is faster per article with a trained model. A lone
        request goes at once.
        """
        self.check_ready()
        loop = asyncio.get_running_loop()
        if self._dispatcher is None or self._dispatcher.done():
            self._slots = asyncio.Semaphore(self.procs or self.settings.threads)
            self._wake = asyncio.Event()
            self._dispatcher = loop.create_task(self._dispatch())
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((item, future))
        self._wake.set()
        try:
            return await asyncio.wait_for(future, self.settings.timeout)
        except asyncio.TimeoutError:
            raise self.too_slow() from None

    async def _dispatch(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._slots.acquire()
                size = self.settings.batch_requests
                batch = [(i, f) for i, f in self._pending[:size] if not f.done()]
                del self._pending[:size]
                if batch:
                    asyncio.get_running_loop().create_task(self._run_batch(batch))
                else:
                    self._slots.release()

    async def _run_batch(self, batch: list[tuple[Any, asyncio.Future[bytes]]]) -> None:
        executor = self.executor
        try:
            results = await asyncio.wrap_future(
                self._submit(worker.suggest_group, [item for item, _ in batch])
            )
        except BrokenProcessPool:
            results = [self._pool_died(executor)] * len(batch)
        except Exception as exc:  # noqa: BLE001 (reported to each waiting request)
            results = [exc] * len(batch)
        finally:
            self._slots.release()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # timed out meanwhile
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


def in_model_process(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(tagger, index, *args)`` with this model process's loaded tagger and index
    (see :func:`newstag.service.worker.init_process`)."""
    proc = worker._PROCESS  # noqa: SLF001 (the model process's loaded tagger and index)
    return func(proc["tagger"], proc["index"], *args)
