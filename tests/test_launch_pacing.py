"""Client-side pacing: bookings stay inside a sliding one-minute window and one post/s per channel."""

from __future__ import annotations

import pytest

from bot.core.pacing import SAFETY, WINDOW, SlackPacer, configure, pacer_for


def test_burst_up_to_the_limit_then_waits_for_the_window() -> None:
    pacer = SlackPacer({"chat.postMessage": 3}, clock=lambda: 0.0)
    moments = [pacer.reserve("chat.postMessage", channel=f"U{i}", now=0.0) for i in range(7)]
    assert moments[:3] == [0.0, 0.0, 0.0]
    assert moments[3:6] == [pytest.approx(WINDOW + SAFETY)] * 3
    assert moments[6] == pytest.approx(2 * (WINDOW + SAFETY))


def test_posts_to_one_channel_are_a_second_apart() -> None:
    pacer = SlackPacer({"chat.postMessage": 100}, per_channel_interval=1.0)
    first = pacer.reserve("chat.postMessage", channel="C1", now=10.0)
    second = pacer.reserve("chat.postMessage", channel="C1", now=10.0)
    other = pacer.reserve("chat.postMessage", channel="C2", now=10.0)
    assert first == 10.0 and second >= 11.0
    assert other == second  # bookings never go backwards within a method


def test_old_calls_leave_the_window() -> None:
    pacer = SlackPacer({"users.info": 2})
    assert pacer.reserve("users.info", now=0.0) == 0.0
    assert pacer.reserve("users.info", now=1.0) == 1.0
    assert pacer.reserve("users.info", now=100.0) == 100.0


def test_unlisted_methods_are_not_paced() -> None:
    pacer = SlackPacer({})
    assert [pacer.reserve("chat.postMessage", channel="C1", now=5.0) for _ in range(3)][-1] >= 5.0
    assert pacer.reserve("auth.test", now=5.0) == 5.0


async def test_pacers_are_per_workspace_and_configurable() -> None:
    class Owner:
        pass

    owner = Owner()
    configure(owner, {"chat.postMessage": 7}, per_channel_interval=0.5)
    first, second = pacer_for(owner, "T1"), pacer_for(owner, "T2")
    assert first is not second and first is pacer_for(owner, "T1")
    assert first.limits == {"chat.postMessage": 7} and first.per_channel_interval == 0.5
