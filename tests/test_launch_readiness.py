"""Readiness score and trend: pure functions of the sign-off statuses."""

from __future__ import annotations

import pytest

from bot.launches.readiness import (
    days_to_launch_label,
    launch_status_after,
    readiness_score,
    trend,
)
from models.launch import FunctionStatus as S
from models.launch import LaunchStatus as L


def test_all_done_scores_one_hundred_and_nothing_started_zero() -> None:
    assert readiness_score([S.DONE] * 4) == 100
    assert readiness_score([S.NOT_STARTED] * 4) == 0
    assert readiness_score([]) == 0


def test_score_is_the_mean_of_status_points() -> None:
    # done 100, on track 70, at risk 35, blocked 0 → 205 / 4
    assert readiness_score([S.DONE, S.ON_TRACK, S.AT_RISK, S.BLOCKED]) == 51


def test_blocked_counts_like_not_started() -> None:
    assert readiness_score([S.DONE, S.BLOCKED]) == readiness_score([S.DONE, S.NOT_STARTED]) == 50


@pytest.mark.parametrize(
    ("score", "previous", "direction", "label"),
    [
        (60, None, "new", "first standup"),
        (72, 60, "up", "▲ +12 since last standup"),
        (55, 60, "down", "▼ −5 since last standup"),
        (61, 60, "steady", "steady (+1) since last standup"),
        (60, 60, "steady", "steady since last standup"),
    ],
)
def test_trend_direction_and_label(score: int, previous: int | None, direction: str, label: str) -> None:
    result = trend(score, previous)
    assert result.direction == direction
    assert result.label == label


def test_a_blocker_puts_a_live_launch_at_risk_and_clearing_it_returns_to_planning() -> None:
    assert launch_status_after(L.PLANNING, [S.ON_TRACK, S.BLOCKED]) == L.AT_RISK
    assert launch_status_after(L.READY, [S.DONE, S.BLOCKED]) == L.AT_RISK
    assert launch_status_after(L.AT_RISK, [S.ON_TRACK, S.DONE]) == L.PLANNING
    assert launch_status_after(L.AT_RISK, [S.AT_RISK]) == L.AT_RISK
    assert launch_status_after(L.READY, [S.DONE, S.DONE]) == L.READY


def test_launched_and_cancelled_launches_are_left_alone() -> None:
    assert launch_status_after(L.LAUNCHED, [S.BLOCKED]) == L.LAUNCHED
    assert launch_status_after(L.CANCELLED, [S.BLOCKED]) == L.CANCELLED


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (12, "12 days to launch"),
        (1, "launch is tomorrow"),
        (0, "launch is today"),
        (-2, "target date passed 2 days ago"),
    ],
)
def test_days_to_launch_label(days: int, label: str) -> None:
    assert days_to_launch_label(days) == label
