"""The permission policy on its own: every `may_*` function for every kind of person, and the
admin cache. No database, no Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.core.permissions import (
    Actor,
    Admins,
    Refused,
    Verdict,
    may_answer_for_area,
    may_answer_function,
    may_approve_release,
    may_cancel_release,
    may_edit_release,
    may_move_theme,
    may_retry_release,
    may_run_launch,
    may_submit_or_discard_release,
    may_vote,
    require,
)

ROLES = {
    "owner": "U0OWNER",
    "approver": "U0APPROVER",
    "function owner": "U0FUNC",
    "launch owner": "U0LAUNCH",
    "area owner": "U0AREA",
    "backup": "U0BACKUP",
    "admin": "U0ADMIN",
    "other member": "U0OTHER",
}


def actor(role: str) -> Actor:
    return Actor(user_id=ROLES[role], admin=role == "admin")


@dataclass
class Release:
    status: str
    approver: str | None = ROLES["approver"]
    id: int = 7
    owner: str | None = ROLES["owner"]


@dataclass
class Launch:
    name: str = "Checkout v2"
    owner: str = ROLES["launch owner"]


@dataclass
class Function:
    name: str = "Engineering"
    owner: str | None = ROLES["function owner"]


@dataclass
class Area:
    name: str = "Billing"
    owner: str | None = ROLES["area owner"]
    backups: list[str] = field(default_factory=lambda: [ROLES["backup"]])


POLICIES: dict[str, tuple[Any, set[str]]] = {
    "edit a draft release": (lambda a: may_edit_release(a, Release("draft")), {"owner", "admin"}),
    "edit an approved release": (
        lambda a: may_edit_release(a, Release("approved")),
        {"owner", "approver", "admin"},
    ),
    "edit a posted release": (
        lambda a: may_edit_release(a, Release("posted")),
        {"owner", "approver", "admin"},
    ),
    "edit a cancelled release": (lambda a: may_edit_release(a, Release("cancelled")), set()),
    "send or discard a release": (
        lambda a: may_submit_or_discard_release(a, Release("draft")),
        {"owner", "admin"},
    ),
    "approve a release with an approver": (
        lambda a: may_approve_release(a, Release("pending_approval")),
        {"approver"},
    ),
    "approve a release without an approver": (
        lambda a: may_approve_release(a, Release("pending_approval", approver=None)),
        {"admin"},
    ),
    "cancel or reschedule a release": (
        lambda a: may_cancel_release(a, Release("scheduled")),
        {"owner", "approver", "admin"},
    ),
    "retry the failed channels of a release": (
        lambda a: may_retry_release(a, Release("partially_posted")),
        {"owner", "approver", "admin"},
    ),
    "answer for a function": (
        lambda a: may_answer_function(a, Launch(), Function()),
        {"function owner", "launch owner"},
    ),
    "answer for a function with no owner": (
        lambda a: may_answer_function(a, Launch(), Function(owner=None)),
        {"launch owner"},
    ),
    "vote go/no-go": (lambda a: may_vote(a, Launch(), [ROLES["function owner"], None]), {"function owner"}),
    "vote when nobody owns a function": (lambda a: may_vote(a, Launch(), [None]), set()),
    "edit or run a launch": (lambda a: may_run_launch(a, Launch()), {"launch owner", "admin"}),
    "answer for an area": (lambda a: may_answer_for_area(a, Area()), {"area owner", "backup", "admin"}),
    "answer for an unowned area": (
        lambda a: may_answer_for_area(a, Area(owner=None, backups=[])),
        {"admin"},
    ),
    "ship or merge a theme": (lambda a: may_move_theme(a, "Dark mode", Area()), {"area owner", "admin"}),
    "ship or merge a theme with no area": (lambda a: may_move_theme(a, "Dark mode", None), {"admin"}),
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_policy_allows_exactly_the_people_the_spec_names(policy: str, role: str) -> None:
    decide, allowed = POLICIES[policy]
    verdict: Verdict = decide(actor(role))
    assert verdict.allowed is (role in allowed), (policy, role, verdict)
    if verdict.allowed:
        assert require(verdict) is verdict
        return
    assert verdict.refusal.endswith(".") and verdict.refusal[0].isupper()
    with pytest.raises(Refused) as refused:
        require(verdict)
    assert str(refused.value) == verdict.refusal


@pytest.mark.parametrize("policy", list(POLICIES))
def test_an_admin_api_token_acts_as_an_admin(policy: str) -> None:
    decide, _allowed = POLICIES[policy]
    assert decide(Actor.api()).allowed is decide(actor("admin")).allowed


@pytest.mark.parametrize(
    ("verdict", "named"),
    [
        (may_answer_function(actor("other member"), Launch(), Function()), ["U0FUNC", "U0LAUNCH"]),
        (may_vote(actor("other member"), Launch(), [ROLES["function owner"]]), ["U0FUNC"]),
        (may_run_launch(actor("other member"), Launch()), ["U0LAUNCH", "workspace admin"]),
        (may_answer_for_area(actor("other member"), Area()), ["U0AREA", "U0BACKUP", "workspace admin"]),
        (may_move_theme(actor("other member"), "Dark mode", Area()), ["U0AREA", "workspace admin"]),
        (may_edit_release(actor("other member"), Release("approved")), ["U0OWNER", "U0APPROVER", "admin"]),
    ],
)
def test_a_refusal_names_who_may(verdict: Verdict, named: list[str]) -> None:
    assert not verdict.allowed and all(name in verdict.refusal for name in named), verdict.refusal


def test_names_in_a_refusal_are_escaped() -> None:
    verdict = may_run_launch(actor("other member"), Launch(name="<!channel> *launch*"))
    assert "<!channel>" not in verdict.refusal and "&lt;!channel&gt;" in verdict.refusal


def test_an_owner_editing_an_approved_release_goes_back_to_the_approver() -> None:
    assert may_edit_release(actor("owner"), Release("approved")).review is True
    assert may_edit_release(actor("approver"), Release("approved")).review is False
    assert may_edit_release(actor("owner"), Release("draft")).review is False


class FakeSlack:
    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.calls = 0

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls += 1
        return {"ok": True, "user": self.users.get(user, {})}


@pytest.mark.parametrize(
    ("user", "admin"),
    [({"is_admin": True}, True), ({"is_owner": True}, True), ({"is_primary_owner": True}, True), ({}, False)],
)
async def test_slack_admins_and_owners_are_admins_and_remembered_briefly(
    user: dict[str, Any], admin: bool
) -> None:
    now = [0.0]
    slack = FakeSlack({"U0X": user})
    admins = Admins(clock=lambda: now[0], ttl=60)
    assert await admins.is_admin(slack, team_id="T1", user_id="U0X") is admin  # type: ignore[arg-type]
    assert await admins.is_admin(slack, team_id="T1", user_id="U0X") is admin  # type: ignore[arg-type]
    assert slack.calls == 1
    now[0] = 61
    await admins.is_admin(slack, team_id="T1", user_id="U0X")  # type: ignore[arg-type]
    assert slack.calls == 2


async def test_switchboard_admins_are_admins_without_asking_slack() -> None:
    slack = FakeSlack({})
    admins = Admins([" U0CONF ", ""])
    actor = await admins.actor(slack, team_id="T1", user_id="U0CONF")  # type: ignore[arg-type]
    assert actor == Actor(user_id="U0CONF", admin=True) and slack.calls == 0
