"""Prometheus metrics (prometheus-client), made only when `metrics.enabled`: HTTP requests by route, method and
status with their latency, inbox activities by type and outcome, signature failures by reason, deliveries by
outcome; the queue (depth by state, oldest age, paused hosts) and the workers' heartbeats are read from the
database when /metrics is asked, so they are the site's, whichever process answers.

Under `serve --processes N` the parent sets PROMETHEUS_MULTIPROC_DIR for its children: each writes its samples to
files there, and /metrics in any of them sums every process's (prometheus-client's multi-process mode). Label
values come from small fixed sets (route patterns, not paths; known activity types; a few reasons), so no client
can grow the number of series."""

from __future__ import annotations

import os
from typing import Any

from fedblog.clock import utcnow
from fedblog.context import Context
from fedblog.services.queue_control import queue_overview

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Block", "Create", "Delete", "EmojiReact", "Flag", "Follow", "Like", "Move",
        "Reject", "Remove", "Undo", "Update",
    }
)  # fmt: skip
INBOX_OUTCOMES = {202: "accepted", 400: "invalid", 401: "signature", 403: "blocked", 413: "too_large"}
INBOX_OUTCOMES |= {415: "content_type", 429: "rate_limited", 503: "unavailable"}
# A signature failure's reason, from the text of the 401 (services/verification.py), first match wins.
SIGNATURE_REASONS = (
    ("not signed", "unsigned"),
    ("does not belong", "key_owner"),
    ("cannot fetch", "key_unavailable"),
    ("digest", "digest"),
    ("content-digest", "digest"),
    ("date", "time_window"),
    ("expired", "time_window"),
    ("created", "time_window"),
    ("future", "time_window"),
)


def signature_failure_reason(text: str) -> str:
    lowered = text.lower()
    for words, reason in SIGNATURE_REASONS:
        if words in lowered:
            return reason
    return "invalid_signature"


def delivery_outcome(status: int | None) -> str:
    if status is None:
        return "network_error"
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status == 429:
        return "rate_limited"
    return "refused" if status < 500 else "server_error"


class Metrics:
    """The metrics of one process. Made by the app once its context exists; read by web/metrics.py."""

    def __init__(self) -> None:
        # prometheus-client only where metrics are on (and after the parent set the multi-process folder).
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROCESS_VARIABLE))
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fedblog_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "fedblog_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inbox = Counter(
            "fedblog_inbox_activities", "Activities posted to the inboxes", ["type", "outcome"], registry=self.registry
        )
        self.signature_failures = Counter(
            "fedblog_inbox_signature_failures", "Inbox requests refused for their signature", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self.deliveries = Counter(
            "fedblog_deliveries", "Delivery attempts by outcome", ["outcome"], registry=self.registry
        )
        self.page_cache = Counter(
            "fedblog_page_cache_lookups", "Cached pages looked up, by result", ["result"], registry=self.registry
        )
        self.webmentions = Counter(
            "fedblog_webmentions_received", "Webmentions posted to /webmention", ["outcome"], registry=self.registry
        )
        self.emails = Counter(
            "fedblog_emails", "E-mails handed to the SMTP server", ["kind", "outcome"], registry=self.registry
        )

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def inbox_answered(self, activity_type: str, status: int, reason: str) -> None:
        kind = activity_type if activity_type in ACTIVITY_TYPES else "other"
        self.inbox.labels(kind, INBOX_OUTCOMES.get(status, "other")).inc()
        if status == 401:
            self.signature_failures.labels(signature_failure_reason(reason)).inc()

    def delivery_attempted(self, status: int | None) -> None:
        self.deliveries.labels(delivery_outcome(status)).inc()

    def page_cache_lookup(self, hit: bool) -> None:
        self.page_cache.labels("hit" if hit else "miss").inc()

    def webmention_received(self, status: int) -> None:
        outcome = {202: "accepted", 400: "invalid", 429: "rate_limited"}.get(status, "other")
        self.webmentions.labels(outcome).inc()

    def email_sent(self, kind: str, sent: bool) -> None:
        self.emails.labels(kind, "sent" if sent else "failed").inc()

    def counters_text(self) -> bytes:
        """This process's counters, or every process's under --processes N."""
        # prometheus-client only where metrics are on, as in __init__.
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)


async def site_metrics_text(ctx: Context) -> bytes:
    """The queue and the workers, as the database has them now."""
    # prometheus-client only where metrics are on, as in Metrics.__init__.
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    now = utcnow()
    overview = await queue_overview(ctx)
    depth = GaugeMetricFamily("fedblog_queue_deliveries", "Undelivered deliveries by state", labels=["state"])
    for state, count in (
        ("pending", overview.pending),
        ("retrying", overview.retrying),
        ("leased", overview.leased),
        ("failed", overview.failed),
    ):
        depth.add_metric([state], count)
    oldest = overview.oldest_pending
    age = GaugeMetricFamily(
        "fedblog_queue_oldest_pending_age_seconds", "Age of the oldest delivery not yet delivered (0: none)"
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    paused = GaugeMetricFamily("fedblog_queue_paused_hosts", "Hosts whose deliveries are paused after failures")
    paused.add_metric([], overview.paused)
    beats = GaugeMetricFamily(
        "fedblog_worker_heartbeat_age_seconds", "Seconds since each delivery worker's last heartbeat",
        labels=["worker", "machine", "pid"],
    )  # fmt: skip
    for worker in overview.workers:
        beats.add_metric(
            [worker.id, worker.machine, str(worker.pid)], max(0.0, (now - worker.heartbeat_at).total_seconds())
        )
    families = [depth, age, paused, beats]

    class Families:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families())
    return generate_latest(registry)
