"""Charts of a launch's readiness: its trend in the standup summary and `/launch status`, and a
small sparkline in App Home."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block

from bot.analytics.charts import readiness_chart, readiness_sparkline
from bot.analytics.schema import ReadinessPointOut
from bot.analytics.slack import ChartSlot
from models.launch import Launch

# A sparkline needs a line: two standups at least; App Home shows the latest few, for a few launches.
SPARKLINE_MIN_POINTS = 2
SPARKLINE_POINTS = 10
SPARKLINES = 5


def readiness_trend(*, launch: Launch, history: Sequence[ReadinessPointOut], today: date) -> list[Block]:
    """The readiness score at each standup with the target date marked; nothing before a first score."""
    if not history:
        return []
    return [
        ChartSlot(
            name="readiness",
            title=f"Readiness of {launch.name} by standup",
            draw=readiness_chart,
            data={
                "name": launch.name,
                "history": list(history),
                "target_date": launch.target_date,
                "today": today,
            },
        )
    ]


def readiness_sparklines(rows: Sequence[tuple[Launch, Sequence[ReadinessPointOut]]]) -> list[Block]:
    """App Home: a sparkline of the latest standups for each launch that has a trend to show."""
    shown = [(launch, history) for launch, history in rows if len(history) >= SPARKLINE_MIN_POINTS]
    return [
        ChartSlot(
            name=f"sparkline_{launch.id}",
            title=f"{launch.name}: readiness at the latest standups",
            draw=readiness_sparkline,
            data={"history": list(history[-SPARKLINE_POINTS:])},
        )
        for launch, history in shown[:SPARKLINES]
    ]
