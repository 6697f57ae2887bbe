"""Customer voice in Slack. `capture`: the "Log as feedback" shortcut, `/feedback`, the feedback
reaction and "Add details"; `modal`: saving the feedback modal and its select menus; `themes`: linking
suggested themes and the theme modal; `tracking`: `/feedback link`, "Edit theme" and the answer to
"closed as not planned". `capture` and `themes` also add their App Home sections."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.feedback import capture, modal, themes, tracking


def register(app: AsyncApp) -> None:
    capture.register(app)
    modal.register(app)
    themes.register(app)
    tracking.register(app)
