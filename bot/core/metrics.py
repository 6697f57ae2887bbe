"""Prometheus metrics shared by the web app, the Slack client and the scheduler."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "switchboard_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "switchboard_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SLACK_API_CALLS = Counter("switchboard_slack_api_calls_total", "Slack Web API calls", ["method", "outcome"])
SCHEDULER_LAG = Histogram(
    "switchboard_scheduler_lag_seconds",
    "Delay between a job's due time and its claim",
    ["kind"],
    buckets=(0.5, 1, 5, 15, 30, 60, 300, 900, 3600),
)
JOBS_FINISHED = Counter("switchboard_jobs_total", "Jobs finished", ["kind", "status"])
JOBS_PENDING = Gauge("switchboard_jobs_pending", "Jobs due and not yet claimed")
