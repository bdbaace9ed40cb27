"""The FastAPI app: ``create_app(tagger=None, index=None, settings=...)``.

The model and the spaCy pipeline load once per worker at start-up (``/readyz`` answers 503
until they are in). Model work (see :mod:`newstag.service.worker`) runs off the event loop,
under the per-request time limit: on one thread of the web worker by default, or on a pool
of ``model_processes`` model processes, which spreads concurrent requests evenly over cores.
Every error is a JSON ``{"error": ..., "detail": ...}`` body; bad input is always a 4xx.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from newstag import __version__
from newstag.service import catalog, page, worker
from newstag.service.feedback import FeedbackError, FeedbackStore, open_store
from newstag.service.metrics import Metrics, MetricsMiddleware
from newstag.service.page import ASSETS as PAGE_ASSETS
from newstag.service.schemas import (
    BatchIn,
    BatchOut,
    EntitiesIn,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    RelatedIn,
    SuggestIn,
)
from newstag.service.settings import Settings
from newstag.service.worker import ApiError, summarise, validation_detail

log = logging.getLogger("newstag.service")

DOCS_ASSETS = "/docs-assets"
"""Where Swagger UI's and ReDoc's files are served from (package ``fastapi-offline``, no CDN)."""
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect",
                        "/redoc", "/openapi.json"} | {
    f"{DOCS_ASSETS}/{name}" for name in ("swagger-ui-bundle.js", "swagger-ui.css",
                                         "redoc.standalone.js", "favicon.png")})
"""Paths served without an API key."""

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "Malformed JSON"), (401, "Missing or wrong API key"),
        (413, "Request body over the size cap"), (415, "Body is not JSON"),
        (422, "Invalid request or article (the error says which field)"),
        (503, "Model still loading"), (504, "Request over the time limit"))
}

OPEN_PATHS |= frozenset(PAGE_ASSETS)  # the review page loads without a key, then asks for one


def json_response(body: bytes, status: int = 200) -> Response:
    """An encoded JSON answer (skips FastAPI's slow ``jsonable_encoder`` pass)."""
    return Response(body, status_code=status, media_type="application/json")


def error_response(status: int, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


# ---------------------------------------------------------------------------
# State: the loaded tagger, index and feedback store of one web worker
# ---------------------------------------------------------------------------


class ServiceState:
    """What one web worker holds: the model (in-process or a process pool), the feedback
    store and the metrics."""

    def __init__(self, settings: Settings, tagger: Any = None, index: Any = None,
                 store: FeedbackStore | None = None) -> None:
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
        return ProcessPoolExecutor(self.procs, mp_context=ctx, initializer=worker.init_process,
                                   initargs=(s.model, s.pipeline, s.index, self._started,
                                             s.rules))

    @property
    def ready(self) -> bool:
        return self.loaded and self.load_error is None

    def load(self) -> None:
        """Load the model named by the settings (here or in every model process)."""
        try:
            if self.procs:  # one call per process makes the pool start them all
                futures = [self.executor.submit(worker.call, "info") for _ in range(self.procs)]
                info = futures[0].result()  # raises BrokenProcessPool when loading fails
                pids: set[int] = set()
                while len(pids) < self.procs:
                    try:
                        pids.add(self._started.get(timeout=1))
                    except queue.Empty:  # still loading, or broken (raises here)
                        self.executor.submit(worker.call, "info").result()
                self.info = {**info, "pid": sorted(pids)}  # model processes
            else:
                if self.tagger is None:
                    self.tagger, self.index = worker.load(self.settings.model,
                                                          self.settings.pipeline,
                                                          self.settings.index,
                                                          self.settings.rules)
                self.info = {**worker.info(self.tagger, self.index), "pid": [os.getpid()]}
            self.loaded = True
            self.metrics.ready.set(1)
        except Exception as exc:  # reported by /readyz; the web worker stays up
            self.load_error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, BrokenProcessPool):
                self.load_error = "a model process failed to start (see the server log)"
            log.error("newstag: model failed to load: %s", self.load_error)

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

    def _check_ready(self) -> None:
        if not self.ready:
            if self.load_error:
                raise ApiError(503, f"model failed to load: {self.load_error}")
            raise ApiError(503, "model is still loading; retry shortly")

    def _submit(self, name: str, *args: Any) -> Any:
        if self.procs:
            return self.executor.submit(worker.call, name, *args)
        return self.executor.submit(worker.WORK[name], self.tagger, self.index, *args)

    def _pool_died(self, executor: Executor) -> ApiError:
        """503 for a request whose model process died; the first such request (of those that
        were running on the broken ``executor``) starts a new pool."""
        if executor is self.executor:
            log.error("newstag: a model process died; starting a new pool")
            self.executor = self._new_executor()
            executor.shutdown(wait=False, cancel_futures=True)
        return ApiError(503, "a model process died; retry the request")

    def _too_slow(self) -> ApiError:
        return ApiError(504, f"request took longer than the {self.settings.timeout:g} s limit")

    async def run(self, name: str, *args: Any) -> Any:
        """Run work function ``name`` under the time limit (504 when over it)."""
        self._check_ready()
        executor = self.executor
        future = None
        try:
            future = self._submit(name, *args)  # raises when the pool is already broken
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.timeout)
        except asyncio.TimeoutError:
            if future is not None:
                future.cancel()
            raise self._too_slow() from None
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
        self._check_ready()
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
            raise self._too_slow() from None

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
                self._submit("suggest_group", [item for item, _ in batch]))
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


# ---------------------------------------------------------------------------
# Middleware: API keys and the body cap (pure ASGI, before the body is read)
# ---------------------------------------------------------------------------


class GuardMiddleware:
    """Checks the API key (when keys are set) and caps the request body (413 above it).

    A refusal is sent only after the rest of the request body has been read, with
    ``Connection: close``: answering while the client is still sending and then closing the
    socket makes the client's TCP stack see a reset, and the client never reads the answer.
    """

    drain_bytes = 64_000_000
    """Most of a refused request's body read (and dropped) before the answer; past it, a
    client still sending may see a reset (a flood, not a CMS)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        keys = self.settings.api_keys
        if keys and scope["path"] not in OPEN_PATHS and scope.get("method") != "OPTIONS":
            given = headers.get("x-api-key", "")
            auth = headers.get("authorization", "")
            if not given and auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
                msg = "invalid API key" if given else "missing API key (send X-API-Key)"
                await self._refuse(scope, receive, send, 401, msg,
                                   {"WWW-Authenticate": "Bearer"})
                return
        cap = self.settings.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            await self._refuse(scope, receive, send, 413, f"request body is {int(length):,} "
                                                          f"bytes, over the {cap:,}-byte cap")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                await self._refuse(scope, receive, send, 413,
                                   f"request body is over the {cap:,}-byte cap", drain=more)
                return
            if not more:
                break
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any, status: int, message: str,
                      headers: dict[str, str] | None = None, drain: bool = True) -> None:
        """Answer ``status`` with ``Connection: close`` once the body is read (``drain``)."""
        if drain and not await self._drain(receive):
            return  # the client has gone: nobody reads an answer
        await error_response(status, message, headers={**(headers or {}),
                                                       "Connection": "close"})(
            scope, receive, send)

    async def _drain(self, receive: Any) -> bool:
        """Read and drop the rest of the body (up to ``drain_bytes``); False if the client left."""
        read = 0
        while read <= self.drain_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            read += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        return True


# ---------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------


def create_app(tagger: Any = None, index: Any = None, settings: Settings | None = None,
               store: FeedbackStore | None = None, background_load: bool = True) -> FastAPI:
    """Build the service. ``tagger``/``index``/``store`` override what ``settings`` name.

    Without a ``tagger`` the model named by ``settings`` loads at start-up: in the background
    (``/readyz`` says 503 meanwhile), or before the server accepts connections when
    ``background_load`` is false (what each worker of a multi-worker server does).
    """
    settings = settings or Settings()
    state = ServiceState(settings, tagger=tagger, index=index, store=store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        loader = None
        if not state.ready and background_load:
            loader = asyncio.create_task(asyncio.to_thread(state.load))
        elif not state.ready:
            await asyncio.to_thread(state.load)
        yield
        if loader is not None and not loader.done():
            loader.cancel()
        state.close()

    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(  # /docs and /redoc with their files served locally, not from a CDN
        static_url=DOCS_ASSETS,
        title="newstag",
        version=__version__,
        summary="Tag suggestions, entities and related headlines for news articles.",
        description="Send an article when an editor saves it; get tag suggestions back. "
                    "Report which suggestions the editor kept to `/v1/feedback`. "
                    "Errors are `{\"error\": ..., \"detail\": ...}` JSON bodies.",
        lifespan=lifespan,
    )
    app.state.newstag = state

    # the last added runs first: metrics -> CORS (so 401/413 answers carry CORS headers
    # too) -> API key and body cap -> the app
    app.add_middleware(GuardMiddleware, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Content-Type", "X-API-Key", "Authorization"])
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            ctx = errors[0].get("ctx") or {}
            reason = ctx.get("error", "") if isinstance(ctx, dict) else ""
            return error_response(400, f"malformed JSON body{': ' + str(reason) if reason else ''}")
        detail = validation_detail(errors)
        if len(detail) == 1 and not detail[0]["loc"] and detail[0]["type"] != "value_error":
            # the body as a whole is wrong
            ctype = request.headers.get("content-type", "")
            if ctype and "json" not in ctype.lower():
                return error_response(415, f"Content-Type is {ctype.split(';')[0]!r}; send "
                                           "a JSON object with Content-Type: application/json")
            if detail[0]["type"] == "missing":
                return error_response(422, "request body is empty; expected a JSON object")
            return error_response(422, "request body must be a JSON object", detail)
        return error_response(422, summarise(detail), detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400 and "parsing the body" in message:
            message = "malformed request body: expected a JSON object"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        log.exception("newstag: internal error on %s", request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__})")

    # -- health -----------------------------------------------------------------

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "pid": os.getpid()}

    @app.get("/readyz", tags=["health"], summary="The model is loaded",
             responses={503: ERRORS[503]})
    async def readyz() -> Any:
        if state.ready:
            return {"ready": True, "model": settings.model or "none", **state.info}
        if state.load_error:
            return error_response(503, f"model failed to load: {state.load_error}")
        return error_response(503, "model is still loading")

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics",
             response_class=Response)
    async def metrics() -> Response:
        return Response(state.metrics.render(), media_type=state.metrics.content_type)

    # -- model endpoints --------------------------------------------------------

    allow = settings.allow_non_english

    @app.post("/v1/suggest", tags=["tags"], summary="Suggest tags for one article",
              responses=ERRORS)
    async def suggest(req: SuggestIn) -> Response:
        """The same JSON as `newstag suggest --format json`: `tags`, `entities`, `title`,
        `warnings`, `source` (and `id` when given)."""
        return json_response(await state.suggest((req.record(), allow, req.top_k,
                                                  req.min_score)))

    @app.post("/v1/suggest/batch", tags=["tags"], response_model=BatchOut,
              summary="Suggest tags for up to 64 articles", responses=ERRORS)
    async def suggest_batch(req: BatchIn) -> Response:
        """Each article is checked on its own: a bad one is listed in `errors` by `index`, the
        good ones are answered in `results` (same positions as the input). 422 when none is
        good."""
        body, n_ok, errors = await state.run("suggest_batch", req.articles, allow, req.top_k,
                                             req.min_score)
        if not n_ok:
            raise ApiError(422, "no valid article in the batch", errors)
        return json_response(body)

    @app.post("/v1/entities", tags=["entities"], summary="Named entities of one article",
              responses=ERRORS)
    async def entities(req: EntitiesIn) -> Response:
        """People, places, organisations and groups, most salient first."""
        return json_response(await state.run("entities", req.record(), allow))

    @app.post("/v1/related", tags=["related"], summary="Related headlines",
              responses={**ERRORS, 404: {"model": ErrorOut,
                                         "description": "No related index is configured"}})
    async def related(req: RelatedIn) -> Response:
        """Headlines from the configured index most related to the given text."""
        if state.index is None and not settings.index:
            raise ApiError(404, "no related-headlines index is configured; start the service "
                                "with --index DIR")
        text = req.query_text()
        if not text:
            raise ApiError(422, "request: give text, or title and/or body")
        return json_response(await state.run("related", text, req.k, req.min_score))

    # -- feedback ---------------------------------------------------------------

    @app.post("/v1/feedback", tags=["feedback"], status_code=201, response_model=FeedbackOut,
              summary="Record what the editor kept", responses=ERRORS)
    async def feedback(req: FeedbackIn) -> dict[str, Any]:
        """Stored durably (committed) before the 201 answer; export it with
        `newstag feedback export`."""
        record = req.model_dump()
        for key in ("suggested", "accepted", "rejected", "added"):
            record[key] = [t.strip() for t in record[key] if t.strip()]

        def write() -> int:
            return state.store().add(record)

        try:
            row_id = await run_in_threadpool(write)
        except FeedbackError as exc:
            log.error("newstag: feedback not stored: %s", exc)
            raise ApiError(503, "feedback store unavailable; the record was NOT stored, "
                                "retry later") from None
        state.metrics.feedback.inc()
        return {"id": row_id, "stored": True}

    app.include_router(catalog.router(state))  # /v1/model, /v1/tags, /v1/article, ...
    app.include_router(page.router())  # the review page at /
    state.metrics.paths = {getattr(r, "path", "") for r in app.routes}
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and multi-worker serving: settings from env."""
    logging.basicConfig(level=logging.INFO)
    return create_app(settings=Settings.from_env(), background_load=False)

