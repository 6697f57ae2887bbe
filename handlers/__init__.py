"""Bolt listeners, one module per feature. `register_all` wires them in a fixed order."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import fallback, feedback, home, launches, mentions, ownership, releases, whoowns


def register_all(app: AsyncApp) -> None:
    whoowns.register(app)
    mentions.register(app)
    feedback.register(app)
    launches.register(app)
    releases.register(app)
    ownership.register(app)
    home.register(app)
    # Last: anything no feature claimed is still acknowledged, so Slack neither retries it nor
    # disables the subscription.
    fallback.register(app)
