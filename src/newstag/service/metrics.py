"""Prometheus metrics: request counts and latencies by endpoint and status.

Each app gets its own registry, so several apps (tests, workers) never share counters.
With several uvicorn workers each worker reports its own figures.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's counters; :meth:`observe` records one finished request."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.paths: set[str] = set()
        """Route paths of the app, to label requests answered before routing (401, 413)."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newstag_http_requests",
            "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newstag_http_request_duration_seconds",
            "Request latency in seconds.",
            ["endpoint", "method", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "newstag_http_requests_in_flight", "Requests being served.", registry=self.registry
        )
        self.feedback = Counter(
            "newstag_feedback_stored", "Feedback records stored.", registry=self.registry
        )
        self.ready = Gauge(
            "newstag_model_ready", "1 when the model is loaded.", registry=self.registry
        )

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        labels = (endpoint, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of these metrics."""
        return generate_latest(WithoutCreated(self.registry))


class WithoutCreated:
    """A registry's metrics without the ``*_created`` series (they only add noise here).

    Filtering them at render time, rather than with ``disable_created_metrics()``, leaves the
    process-wide ``prometheus_client`` setting of an embedding application alone.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Any:
        for metric in self.registry.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request (outermost, so 401/413 count too)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            endpoint = getattr(route, "path", None)
            if endpoint is None:
                endpoint = scope["path"] if scope["path"] in self.metrics.paths else "unmatched"
            self.metrics.observe(
                endpoint, scope.get("method", ""), status["code"], time.perf_counter() - start
            )
