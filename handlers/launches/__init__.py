"""`/launch`, the New launch shortcut, standup answers, go/no-go votes and Blocked alerts.

`commands` routes `/launch`; `create` is the New launch modal (details, then owners); `answers`
takes status buttons and notes from standup DMs and the App Home, and builds the Home's launch
sections; `gonogo` takes the votes; `alerts` answers the buttons on a Blocked alert; `_common`
holds what several of them share.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.launches import alerts, answers, commands, create, gonogo


def register(app: AsyncApp) -> None:
    commands.register(app)
    create.register(app)
    answers.register(app)
    gonogo.register(app)
    alerts.register(app)
