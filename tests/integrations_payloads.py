"""GitHub, Linear and Jira webhook payloads in their documented shapes, and calls that read them."""

from __future__ import annotations

from typing import Any

from bot.integrations.events import EventKind, TrackerEvent, tracker_events
from models.integration import Provider

DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def github(event_name: str, payload: object) -> list[TrackerEvent]:
    return tracker_events(
        provider=Provider.GITHUB, payload=payload, delivery_id=DELIVERY, event_name=event_name
    )


def linear(payload: object) -> list[TrackerEvent]:
    return tracker_events(provider=Provider.LINEAR, payload=payload, delivery_id=DELIVERY, event_name="Issue")


def jira(payload: object) -> list[TrackerEvent]:
    return tracker_events(provider=Provider.JIRA, payload=payload, delivery_id=DELIVERY)


def summary(events: list[TrackerEvent]) -> list[tuple[EventKind, tuple[str, ...]]]:
    return [(event.kind, event.keys) for event in events]


# GitHub payloads, trimmed to the fields the webhook documentation lists for each event.


def repository(full_name: str = "acme/app") -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "html_url": f"https://github.com/{full_name}",
    }


def github_issue(action: str, *, number: int = 123, state_reason: str | None = None) -> dict[str, Any]:
    closed = action == "closed"
    payload: dict[str, Any] = {
        "action": action,
        "issue": {
            "url": f"https://api.github.com/repos/acme/app/issues/{number}",
            "html_url": f"https://github.com/acme/app/issues/{number}",
            "id": 1,
            "node_id": "I_kwDOA",
            "number": number,
            "title": "Bulk export to CSV",
            "user": {"login": "octocat", "id": 1},
            "labels": [],
            "state": "closed" if closed else "open",
            "state_reason": state_reason,
            "assignee": None,
            "assignees": [],
            "comments": 0,
            "created_at": "2026-11-30T09:00:00Z",
            "closed_at": "2026-12-02T11:59:00Z" if closed else None,
            "body": "Customers keep asking for this.",
        },
        "repository": repository(),
        "sender": {"login": "octocat", "id": 1},
    }
    if action == "assigned":
        payload["assignee"] = {"login": "hubot", "id": 2}
        payload["issue"]["assignee"] = payload["assignee"]
        payload["issue"]["assignees"] = [payload["assignee"]]
    return payload


def github_pull(action: str, *, body: str | None, merged: bool = False, number: int = 45) -> dict[str, Any]:
    closed = action == "closed"
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/acme/app/pulls/{number}",
            "html_url": f"https://github.com/acme/app/pull/{number}",
            "id": 2,
            "number": number,
            "state": "closed" if closed else "open",
            "title": "Add CSV export",
            "user": {"login": "octocat", "id": 1},
            "body": body,
            "draft": False,
            "merged": merged,
            "merged_at": "2026-12-02T11:59:00Z" if merged else None,
            "head": {"ref": "csv-export", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "base": {"ref": "main", "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b"},
        },
        "repository": repository(),
        "sender": {"login": "octocat", "id": 1},
    }


RELEASE_NOTES = (
    "## What's Changed\n"
    "* Add CSV export by @octocat in https://github.com/acme/app/pull/45\n"
    "* Closes #123, see also acme/billing#9 and https://github.com/acme/app/issues/77#issuecomment-5\n"
    "* Mentions #123 again, an entity &#38; and a fragment https://github.com/acme/app/blob/main/x.md#L10\n"
)


def github_release(
    action: str = "published", *, body: str | None = RELEASE_NOTES, name: str | None = "Exports"
) -> dict[str, Any]:
    return {
        "action": action,
        "release": {
            "url": "https://api.github.com/repos/acme/app/releases/1",
            "html_url": "https://github.com/acme/app/releases/tag/v2.4.0",
            "id": 1,
            "tag_name": "v2.4.0",
            "target_commitish": "main",
            "name": name,
            "draft": False,
            "prerelease": False,
            "created_at": "2026-12-02T11:00:00Z",
            "published_at": "2026-12-02T12:00:00Z",
            "author": {"login": "octocat", "id": 1},
            "body": body,
        },
        "repository": repository(),
        "sender": {"login": "octocat", "id": 1},
    }


# Linear payloads: action, type, data (the issue), updatedFrom (previous values), webhookTimestamp.

LINEAR_STATES = {
    "triage": ("Triage", "triage"),
    "backlog": ("Backlog", "backlog"),
    "unstarted": ("Todo", "unstarted"),
    "started": ("In Progress", "started"),
    "completed": ("Done", "completed"),
    "canceled": ("Canceled", "canceled"),
}


def linear_issue(action: str, state: str, *, updated_from: dict[str, Any] | None = None) -> dict[str, Any]:
    name, state_type = LINEAR_STATES[state]
    payload: dict[str, Any] = {
        "action": action,
        "type": "Issue",
        "actor": {"id": "b5ea0cad-1a0a-4d3c-9b6b-6f1a2c3d4e5f", "type": "user", "name": "Ada"},
        "createdAt": "2026-12-02T11:59:58.000Z",
        "organizationId": "2f6b0b0e-6d7c-4c7e-9f3e-0c1d2e3f4a5b",
        "url": "https://linear.app/acme/issue/ENG-123/bulk-export-to-csv",
        "webhookTimestamp": 1764676799000,
        "webhookId": "8c6f3e2a-1b2c-4d5e-8f9a-0b1c2d3e4f5a",
        "data": {
            "id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9",
            "identifier": "ENG-123",
            "number": 123,
            "title": "Bulk export to CSV",
            "url": "https://linear.app/acme/issue/ENG-123/bulk-export-to-csv",
            "priority": 2,
            "stateId": f"state-{state}",
            "state": {"id": f"state-{state}", "name": name, "type": state_type, "color": "#f2c94c"},
            "team": {"id": "team-eng", "key": "ENG", "name": "Engineering"},
            "teamId": "team-eng",
            "createdAt": "2026-11-30T09:00:00.000Z",
            "updatedAt": "2026-12-02T11:59:58.000Z",
        },
    }
    if updated_from is not None:
        payload["updatedFrom"] = updated_from
    return payload


STATE_CHANGED = {"stateId": "state-previous", "updatedAt": "2026-12-01T10:00:00.000Z"}


# Jira payloads: webhookEvent, issue (key, fields.status.statusCategory, fields.resolution), changelog.

JIRA_STATUSES = {
    "To Do": ("10000", {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"}),
    "In Progress": ("3", {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}),
    "Done": ("10001", {"id": 3, "key": "done", "colorName": "green", "name": "Done"}),
}


def jira_issue(
    event: str = "jira:issue_updated",
    *,
    status: str = "In Progress",
    previous: str | None = "To Do",
    resolution: str | None = None,
    extra_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    status_id, category = JIRA_STATUSES[status]
    payload: dict[str, Any] = {
        "timestamp": 1764676799000,
        "webhookEvent": event,
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "557058:c9ebf848", "displayName": "Ada"},
        "issue": {
            "id": "10001",
            "self": "https://acme.atlassian.net/rest/api/2/issue/10001",
            "key": "PROJ-123",
            "fields": {
                "summary": "Bulk export to CSV",
                "project": {"id": "10000", "key": "PROJ", "name": "Product"},
                "status": {
                    "self": f"https://acme.atlassian.net/rest/api/2/status/{status_id}",
                    "id": status_id,
                    "name": status,
                    "statusCategory": {
                        "self": "https://acme.atlassian.net/rest/api/2/statuscategory/4",
                        **category,
                    },
                },
                "resolution": {"id": "10002", "name": resolution} if resolution else None,
            },
        },
    }
    items = list(extra_items or [])
    if previous is not None:
        items.append(
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": JIRA_STATUSES[previous][0],
                "fromString": previous,
                "to": status_id,
                "toString": status,
            }
        )
    if event == "jira:issue_updated":
        payload["changelog"] = {"id": "10100", "items": items}
    return payload


def resolution_item(name: str) -> dict[str, Any]:
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": "10002",
        "toString": name,
    }


def jira_version(description: str = "Exports and audit log") -> dict[str, Any]:
    return {
        "timestamp": 1764676799000,
        "webhookEvent": "jira:version_released",
        "version": {
            "self": "https://acme.atlassian.net/rest/api/2/version/10000",
            "id": "10000",
            "description": description,
            "name": "2.4.0",
            "archived": False,
            "released": True,
            "releaseDate": "2026-12-02",
            "overdue": False,
            "userReleaseDate": "02/Dec/26",
            "projectId": 10000,
        },
    }
