"""Prometheus metrics: one registry per process, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from rapport.scheduler.delivery import SweepReport

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0)


class Metrics:
    """The counters and histograms Rapport exposes; passed around, never global."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.nudges_planned = Counter("rapport_nudges_planned", "Nudges created by the sweep",
                                      registry=self.registry)
        self.nudges_sent = Counter("rapport_nudges_sent", "Nudges delivered", ["platform"],
                                   registry=self.registry)
        self.nudges_failed = Counter("rapport_nudges_failed", "Nudges that failed for good",
                                     ["platform"], registry=self.registry)
        self.nudges_retried = Counter("rapport_nudge_retries", "Deliveries put back for retry",
                                      registry=self.registry)
        self.sweep_seconds = Histogram("rapport_sweep_duration_seconds", "One full sweep",
                                       registry=self.registry,
                                       buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120))
        self.command_seconds = Histogram("rapport_command_duration_seconds",
                                         "Time to answer a command", ["platform"],
                                         registry=self.registry, buckets=_LATENCY_BUCKETS)
        self.ack_seconds = Histogram("rapport_ack_duration_seconds",
                                     "Time from request to acknowledgement", ["platform"],
                                     registry=self.registry, buckets=_LATENCY_BUCKETS)
        self.draft_outcomes = Counter("rapport_draft_outcomes", "AI draft outcomes",
                                      ["provider", "outcome"], registry=self.registry)
        self.busy = Counter("rapport_busy", "Commands answered 'busy, try again' because they "
                            "could not start within Slack's deadline", ["platform"],
                            registry=self.registry)
        self.http_requests = Counter("rapport_http_requests", "HTTP requests by route and status",
                                     ["route", "status"], registry=self.registry)

    def record_sweep(self, report: SweepReport, seconds: float) -> None:
        """Move the counters after one sweep."""
        self.nudges_planned.inc(report.planned)
        for platform, count in report.sent_by_platform.items():
            self.nudges_sent.labels(platform).inc(count)
        for platform, count in report.failed_by_platform.items():
            self.nudges_failed.labels(platform).inc(count)
        self.nudges_retried.inc(report.retried)
        self.sweep_seconds.observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
