"""Release listeners: `/release` and the status message's buttons (status), the *New release*
shortcut, the compose modal and a draft's previews (compose), and approval from Slack (approval).
`form` reads the compose modal; `_common` holds what they share."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.releases import approval, compose, status


def register(app: AsyncApp) -> None:
    status.register(app)
    compose.register(app)
    approval.register(app)
