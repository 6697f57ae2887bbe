"""Tracker webhooks, in the shapes GitHub, Linear and Jira document, become normalized tracker events."""

from __future__ import annotations

import pytest

from bot.integrations.events import EventKind, TrackerEvent, TrackerRelease, tracker_events
from models.integration import Provider
from tests.integrations_payloads import (
    DELIVERY,
    RELEASE_NOTES,
    STATE_CHANGED,
    github,
    github_issue,
    github_pull,
    github_release,
    jira,
    jira_issue,
    jira_version,
    linear,
    linear_issue,
    resolution_item,
    summary,
)


def test_github_issue_opened_is_an_opened_event_for_owner_repo_number() -> None:
    events = github("issues", github_issue("opened"))
    assert events == [
        TrackerEvent(
            provider=Provider.GITHUB, delivery_id=DELIVERY, kind=EventKind.OPENED, keys=("acme/app#123",)
        )
    ]


def test_github_issue_assigned_is_in_progress() -> None:
    assert summary(github("issues", github_issue("assigned"))) == [(EventKind.IN_PROGRESS, ("acme/app#123",))]


@pytest.mark.parametrize(
    ("state_reason", "kind"),
    [
        ("completed", EventKind.COMPLETED),
        (None, EventKind.COMPLETED),
        ("not_planned", EventKind.NOT_PLANNED),
        ("duplicate", EventKind.NOT_PLANNED),
    ],
)
def test_github_issue_closed_is_completed_or_not_planned_by_its_state_reason(
    state_reason: str | None, kind: EventKind
) -> None:
    assert summary(github("issues", github_issue("closed", state_reason=state_reason))) == [
        (kind, ("acme/app#123",))
    ]


def test_github_issue_closed_with_an_unknown_reason_moves_nothing() -> None:
    assert github("issues", github_issue("closed", state_reason="something_new")) == []


def test_github_issue_reopened_is_reopened() -> None:
    assert summary(github("issues", github_issue("reopened", state_reason="reopened"))) == [
        (EventKind.REOPENED, ("acme/app#123",))
    ]


@pytest.mark.parametrize(
    "action", ["labeled", "edited", "milestoned", "unassigned", "deleted", "transferred"]
)
def test_github_issue_actions_that_do_not_change_progress_give_no_events(action: str) -> None:
    assert github("issues", github_issue(action)) == []


def test_github_repository_name_is_lower_cased_in_keys() -> None:
    payload = github_issue("opened")
    payload["repository"]["full_name"] = "Acme/App"
    assert github("issues", payload)[0].keys == ("acme/app#123",)


def test_github_pull_request_opened_fixing_an_issue_is_in_progress_for_it_and_the_pull_request() -> None:
    events = github("pull_request", github_pull("opened", body="Adds the export.\n\nFixes #123"))
    assert summary(events) == [(EventKind.IN_PROGRESS, ("acme/app#45", "acme/app#123"))]


def test_github_pull_request_closing_keywords_follow_github_forms() -> None:
    body = (
        "Closes acme/billing#9\n"
        "RESOLVES: https://github.com/acme/app/issues/77\n"
        "fixed #5, fixes #6 and #7\n"
        "Mentions #200 without a keyword; prefixes #201; closes #45 (itself)"
    )
    keys = github("pull_request", github_pull("opened", body=body))[0].keys
    assert keys == ("acme/app#45", "acme/billing#9", "acme/app#77", "acme/app#5", "acme/app#6")


def test_github_pull_request_opened_without_a_body_is_in_progress_for_itself_only() -> None:
    assert summary(github("pull_request", github_pull("opened", body=None))) == [
        (EventKind.IN_PROGRESS, ("acme/app#45",))
    ]


def test_github_pull_request_merged_is_completed_for_the_issues_it_fixes() -> None:
    events = github("pull_request", github_pull("closed", body="Fixes #123", merged=True))
    assert summary(events) == [(EventKind.COMPLETED, ("acme/app#45", "acme/app#123"))]


def test_github_pull_request_closed_without_merging_closes_nothing() -> None:
    assert github("pull_request", github_pull("closed", body="Fixes #123", merged=False)) == []


@pytest.mark.parametrize("action", ["edited", "synchronize", "labeled", "review_requested"])
def test_github_pull_request_updates_give_no_events(action: str) -> None:
    assert github("pull_request", github_pull(action, body="Fixes #123")) == []


def test_github_release_published_carries_tag_name_body_url_and_referenced_issues() -> None:
    [event] = github("release", github_release())
    assert event.kind is EventKind.RELEASE_PUBLISHED
    assert event.release == TrackerRelease(
        tag="v2.4.0",
        name="Exports",
        body=RELEASE_NOTES,
        url="https://github.com/acme/app/releases/tag/v2.4.0",
        repository="acme/app",
    )
    assert event.keys == ("acme/app#45", "acme/app#123", "acme/billing#9", "acme/app#77")


def test_github_release_without_a_name_is_named_after_its_tag() -> None:
    [event] = github("release", github_release(name=None))
    assert event.release is not None and event.release.name == "v2.4.0"


def test_github_release_without_notes_is_published_with_no_referenced_issues() -> None:
    [event] = github("release", github_release(body=None))
    assert event.keys == () and event.release is not None and event.release.body == ""


@pytest.mark.parametrize("action", ["created", "released", "prereleased", "edited", "deleted", "unpublished"])
def test_github_release_actions_other_than_published_give_no_events(action: str) -> None:
    assert github("release", github_release(action)) == []


@pytest.mark.parametrize("event_name", ["push", "ping", "issue_comment", "workflow_run", None])
def test_github_events_switchboard_does_not_follow_give_no_events_whatever_their_body(
    event_name: str | None,
) -> None:
    payload = {"zen": "Keep it logically awesome.", "hook_id": 1, "issue": ["not", "an", "object"]}
    assert (
        tracker_events(provider=Provider.GITHUB, payload=payload, delivery_id=DELIVERY, event_name=event_name)
        == []
    )


def test_linear_issue_created_is_opened() -> None:
    assert summary(linear(linear_issue("create", "unstarted"))) == [(EventKind.OPENED, ("ENG-123",))]


def test_linear_issue_created_already_started_is_opened_then_in_progress() -> None:
    assert summary(linear(linear_issue("create", "started"))) == [
        (EventKind.OPENED, ("ENG-123",)),
        (EventKind.IN_PROGRESS, ("ENG-123",)),
    ]


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        ("started", EventKind.IN_PROGRESS),
        ("completed", EventKind.COMPLETED),
        ("canceled", EventKind.NOT_PLANNED),
        ("unstarted", EventKind.REOPENED),
        ("backlog", EventKind.REOPENED),
        ("triage", EventKind.REOPENED),
    ],
)
def test_linear_issue_moved_to_a_state_is_the_event_of_that_state_type(state: str, kind: EventKind) -> None:
    assert summary(linear(linear_issue("update", state, updated_from=STATE_CHANGED))) == [
        (kind, ("ENG-123",))
    ]


def test_linear_issue_update_that_leaves_the_state_alone_gives_no_events() -> None:
    edited = {"title": "Bulk export", "updatedAt": "2026-12-01T10:00:00.000Z"}
    assert linear(linear_issue("update", "completed", updated_from=edited)) == []


def test_linear_issue_update_without_previous_values_is_read_from_its_current_state() -> None:
    assert summary(linear(linear_issue("update", "started"))) == [(EventKind.IN_PROGRESS, ("ENG-123",))]


def test_linear_identifier_is_upper_cased_like_pasted_links() -> None:
    payload = linear_issue("create", "unstarted")
    payload["data"]["identifier"] = "eng-123"
    assert linear(payload)[0].keys == ("ENG-123",)


def test_linear_issue_removed_and_other_models_give_no_events() -> None:
    comment = {
        "action": "create",
        "type": "Comment",
        "data": {"id": "c1", "body": "Looks good", "issueId": "i1"},
    }
    assert linear(linear_issue("remove", "started")) == []
    assert linear(comment) == []


def test_jira_issue_created_is_opened() -> None:
    events = jira(jira_issue("jira:issue_created", status="To Do", previous=None))
    assert summary(events) == [(EventKind.OPENED, ("PROJ-123",))]


def test_jira_status_moved_into_the_indeterminate_category_is_in_progress() -> None:
    assert summary(jira(jira_issue(status="In Progress"))) == [(EventKind.IN_PROGRESS, ("PROJ-123",))]


def test_jira_status_moved_to_done_with_resolution_done_is_completed() -> None:
    payload = jira_issue(
        status="Done", previous="In Progress", resolution="Done", extra_items=[resolution_item("Done")]
    )
    assert summary(jira(payload)) == [(EventKind.COMPLETED, ("PROJ-123",))]


def test_jira_done_without_any_resolution_is_completed() -> None:
    assert summary(jira(jira_issue(status="Done", previous="In Progress"))) == [
        (EventKind.COMPLETED, ("PROJ-123",))
    ]


@pytest.mark.parametrize(
    "resolution",
    ["Won't Do", "Won't Fix", "Won\u2019t Fix", "Declined", "Cannot Reproduce", "Duplicate", "won't do "],
)
def test_jira_done_with_a_not_planned_resolution_is_not_planned(resolution: str) -> None:
    payload = jira_issue(
        status="Done",
        previous="In Progress",
        resolution=resolution,
        extra_items=[resolution_item(resolution)],
    )
    assert summary(jira(payload)) == [(EventKind.NOT_PLANNED, ("PROJ-123",))]


def test_jira_resolution_is_read_from_the_changelog_when_the_fields_omit_it() -> None:
    payload = jira_issue(status="Done", previous="In Progress", extra_items=[resolution_item("Won't Do")])
    del payload["issue"]["fields"]["resolution"]
    assert summary(jira(payload)) == [(EventKind.NOT_PLANNED, ("PROJ-123",))]


def test_jira_status_moved_back_to_to_do_is_reopened() -> None:
    assert summary(jira(jira_issue(status="To Do", previous="Done"))) == [(EventKind.REOPENED, ("PROJ-123",))]


def test_jira_status_category_is_taken_from_the_changelog_when_the_issue_has_no_status_field() -> None:
    payload = jira_issue(status="In Progress")
    del payload["issue"]["fields"]["status"]
    assert summary(jira(payload)) == [(EventKind.IN_PROGRESS, ("PROJ-123",))]


def test_jira_custom_status_name_without_a_category_moves_nothing() -> None:
    payload = jira_issue(status="In Progress")
    del payload["issue"]["fields"]["status"]
    payload["changelog"]["items"][0]["toString"] = "Waiting for QA"
    assert jira(payload) == []


def test_jira_update_that_leaves_the_status_alone_gives_no_events() -> None:
    summary_edit = {
        "field": "summary",
        "fieldtype": "jira",
        "fromString": "Export",
        "toString": "Bulk export",
    }
    edited = jira_issue(status="Done", previous=None, extra_items=[summary_edit])
    commented = jira_issue(status="Done", previous=None)
    del commented["changelog"]
    assert jira(edited) == []
    assert jira(commented) == []


def test_jira_version_released_is_a_release_named_after_the_version() -> None:
    [event] = jira(jira_version())
    assert event.kind is EventKind.RELEASE_PUBLISHED and event.keys == ()
    assert event.release == TrackerRelease(tag="2.4.0", name="2.4.0", body="Exports and audit log", url=None)


@pytest.mark.parametrize(
    "event", ["jira:issue_deleted", "jira:version_created", "comment_created", "sprint_started"]
)
def test_jira_events_switchboard_does_not_follow_give_no_events(event: str) -> None:
    assert jira({"timestamp": 1764676799000, "webhookEvent": event, "issue": "ignored"}) == []
