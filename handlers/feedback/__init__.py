"""Customer voice in Slack. `capture`: the "Log as feedback" shortcut, `/feedback`, the feedback
reaction and "Add details"; `modal`: saving the feedback modal and its select menus; `themes`: linking
suggested themes and the theme modal. `capture` and `themes` also add their App Home sections."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.feedback import capture, modal, themes


def register(app: AsyncApp) -> None:
    capture.register(app)
    modal.register(app)
    themes.register(app)
