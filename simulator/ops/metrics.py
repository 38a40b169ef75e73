"""Handler of GET /metrics: the Prometheus text exposition of MetricsService."""

from __future__ import annotations

from ..http.context import services


def get_metrics() -> tuple[str, int, dict[str, str]]:
    # No Content-Type here: connexion takes the spec's text/plain and Flask adds "; charset=utf-8", which Prometheus
    # reads as its text format 0.0.4 (a "; version=0.0.4" parameter would not match the spec's media type).
    return services().metrics.exposition(), 200, {"Cache-Control": "no-store"}
