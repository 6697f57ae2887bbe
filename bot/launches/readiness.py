"""Readiness score (0–100) of a launch's sign-off matrix and its trend between standups.

Pure functions: the score only depends on the functions' statuses, so a summary, the API and
the App Home always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.text import plural
from models.launch import FunctionStatus, LaunchStatus

# How much each status counts towards being ready. "Blocked" counts like "not started": the work
# may be well advanced, but the launch cannot go until someone unblocks it.
STATUS_POINTS: dict[str, int] = {
    FunctionStatus.DONE: 100,
    FunctionStatus.ON_TRACK: 70,
    FunctionStatus.AT_RISK: 35,
    FunctionStatus.NOT_STARTED: 0,
    FunctionStatus.BLOCKED: 0,
}
# Below this change the trend reads "steady" rather than a move.
STEADY_BAND = 2
# A go/no-go held below this score says the sign-off matrix disagrees with a Go.
READY_SCORE = 80


@dataclass(frozen=True)
class Trend:
    score: int
    previous: int | None

    @property
    def delta(self) -> int | None:
        return None if self.previous is None else self.score - self.previous

    @property
    def direction(self) -> str:
        """up, down, steady, or new (no earlier score to compare with)."""
        delta = self.delta
        if delta is None:
            return "new"
        if abs(delta) < STEADY_BAND:
            return "steady"
        return "up" if delta > 0 else "down"

    @property
    def label(self) -> str:
        """ "▲ +12 since last standup", "▼ −5 …", "steady", "first standup"."""
        delta = self.delta
        if delta is None:
            return "first standup"
        if self.direction == "steady":
            return "steady since last standup" if delta == 0 else f"steady ({delta:+d}) since last standup"
        arrow = "▲" if delta > 0 else "▼"
        return f"{arrow} {delta:+d} since last standup".replace("-", "−")


def readiness_score(statuses: Iterable[str]) -> int:
    """Mean readiness of the functions, 0–100; a launch with no functions scores 0."""
    points = [STATUS_POINTS.get(status, 0) for status in statuses]
    if not points:
        return 0
    return round(sum(points) / len(points))


def trend(score: int, previous: int | None) -> Trend:
    return Trend(score=score, previous=previous)


def blockers(statuses: Iterable[str]) -> int:
    return sum(1 for status in statuses if status == FunctionStatus.BLOCKED)


def launch_status_after(current: str, statuses: Iterable[str]) -> str:
    """The launch status a change of function statuses implies.

    Any blocked function puts a live launch at risk; once nothing is blocked or at risk, a launch
    that was at risk goes back to planning. Ready (a recorded "go"), launched and cancelled
    launches are only moved by people, except that a blocker puts a ready launch at risk.
    """
    values = list(statuses)
    if current in (LaunchStatus.LAUNCHED, LaunchStatus.CANCELLED):
        return current
    if FunctionStatus.BLOCKED in values:
        return LaunchStatus.AT_RISK
    if current == LaunchStatus.AT_RISK and FunctionStatus.AT_RISK not in values:
        return LaunchStatus.PLANNING
    return current


def days_to_launch_label(days: int) -> str:
    if days > 1:
        return f"{days} days to launch"
    if days == 1:
        return "launch is tomorrow"
    if days == 0:
        return "launch is today"
    return f"target date passed {plural(-days, 'day')} ago"
