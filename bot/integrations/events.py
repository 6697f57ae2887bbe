"""Verified tracker webhooks turned into the few events that move a theme."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.integrations.keys import github_key_for, jira_key, linear_key
from bot.integrations.payload import MAX_TEXT_LENGTH, MalformedPayload, Node, as_node
from bot.integrations.references import closed_issues, referenced_issues
from models.integration import Provider

__all__ = ["EventKind", "MalformedPayload", "TrackerEvent", "TrackerRelease", "tracker_events"]


class EventKind(StrEnum):
    OPENED = "opened"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NOT_PLANNED = "not_planned"
    # Open again and not started. Linear and Jira do not report the category of the previous state, so
    # this also follows a move between two open states; on a link already open it changes nothing.
    REOPENED = "reopened"
    RELEASE_PUBLISHED = "release_published"


@dataclass(frozen=True)
class TrackerRelease:
    tag: str
    name: str
    body: str
    url: str | None
    # `owner/repo` of a GitHub release: the workspaces tracking work there get its announcement.
    repository: str | None = None


@dataclass(frozen=True)
class TrackerEvent:
    provider: Provider
    delivery_id: str
    kind: EventKind
    # The issues the event is about, keyed as links.py keys them; for a release, those it references.
    keys: tuple[str, ...] = ()
    release: TrackerRelease | None = None
    # The pull request the event comes from (its key is also the first of `keys`).
    pull_request: str | None = None


# What a provider reader returns: the kind, the keys and, for releases, the release.
_Found = tuple[EventKind, tuple[str, ...], TrackerRelease | None]


def tracker_events(
    *, provider: Provider, payload: object, delivery_id: str, event_name: str | None = None
) -> list[TrackerEvent]:
    """The events a verified webhook carries (often none); MalformedPayload when its shape is wrong."""
    root = as_node(payload)
    if provider is Provider.GITHUB:
        found = _github(root, event_name)
    elif provider is Provider.LINEAR:
        found = _linear(root)
    else:
        found = _jira(root)
    from_pull = found and provider is Provider.GITHUB and event_name == "pull_request"
    pull_request = _github_pull_key(root) if from_pull else None
    return [
        TrackerEvent(
            provider=provider,
            delivery_id=delivery_id,
            kind=kind,
            keys=keys,
            release=release,
            pull_request=pull_request,
        )
        for kind, keys, release in found
    ]


def _event(kind: EventKind, *keys: str) -> _Found:
    return (kind, keys, None)


def _opened(key: str, state: EventKind | None) -> list[_Found]:
    """An issue created already started or closed is reported as opened, then as that state."""
    found = [_event(EventKind.OPENED, key)]
    if state is not None and state is not EventKind.REOPENED:
        found.append(_event(state, key))
    return found


# GitHub: the event name is the X-GitHub-Event header; the payload says the action.


def _github(root: Node, event_name: str | None) -> list[_Found]:
    if event_name == "issues":
        return _github_issue(root)
    if event_name == "pull_request":
        return _github_pull_request(root)
    if event_name == "release":
        return _github_release(root)
    return []


def _github_issue(root: Node) -> list[_Found]:
    action = root.text("action")
    if action not in ("opened", "assigned", "closed", "reopened"):
        return []
    repository = _github_repository(root)
    issue = root.child("issue")
    key = _github_key(repository, issue)
    if action == "opened":
        return [_event(EventKind.OPENED, key)]
    if action == "assigned":
        return [_event(EventKind.IN_PROGRESS, key)]
    if action == "reopened":
        return [_event(EventKind.REOPENED, key)]
    reason = issue.optional_text("state_reason")
    # Issues closed before GitHub had close reasons, or closed through the API without one, have
    # none and count as completed. An unknown future reason moves nothing rather than ship a theme.
    if reason in (None, "completed"):
        return [_event(EventKind.COMPLETED, key)]
    if reason in ("not_planned", "duplicate"):
        return [_event(EventKind.NOT_PLANNED, key)]
    return []


def _github_pull_request(root: Node) -> list[_Found]:
    action = root.text("action")
    if action not in ("opened", "reopened", "closed"):
        return []
    repository = _github_repository(root)
    pull = root.child("pull_request")
    own = _github_key(repository, pull)
    body = pull.optional_text("body", limit=MAX_TEXT_LENGTH) or ""
    # A theme may link the pull request itself or the issues it says it closes.
    keys = (own, *(key for key in closed_issues(body, repository=repository) if key != own))
    if action in ("opened", "reopened"):
        return [_event(EventKind.IN_PROGRESS, *keys)]
    # A pull request closed without merging closes none of its issues.
    return [_event(EventKind.COMPLETED, *keys)] if pull.boolean("merged") else []


def _github_release(root: Node) -> list[_Found]:
    if root.text("action") != "published":
        return []
    repository = _github_repository(root)
    release = root.child("release")
    tag = release.text("tag_name")
    body = release.optional_text("body", limit=MAX_TEXT_LENGTH) or ""
    published = TrackerRelease(
        tag=tag,
        name=release.optional_text("name") or tag,
        body=body,
        url=release.optional_text("html_url"),
        repository=repository.lower(),
    )
    return [(EventKind.RELEASE_PUBLISHED, referenced_issues(body, repository=repository), published)]


def _github_pull_key(root: Node) -> str:
    return _github_key(_github_repository(root), root.child("pull_request"))


def _github_repository(root: Node) -> str:
    return root.child("repository").text("full_name")


def _github_key(repository: str, item: Node) -> str:
    key = github_key_for(full_name=repository, number=item.integer("number"))
    if key is None:
        raise MalformedPayload(f"repository.full_name and {item.path}.number do not name an issue")
    return key


# Linear: `type` names the model, `action` is create/update/remove, `data` is the issue.

_LINEAR_STATES = {
    "started": EventKind.IN_PROGRESS,
    "completed": EventKind.COMPLETED,
    "canceled": EventKind.NOT_PLANNED,
    "triage": EventKind.REOPENED,
    "backlog": EventKind.REOPENED,
    "unstarted": EventKind.REOPENED,
}


def _linear(root: Node) -> list[_Found]:
    if root.text("type") != "Issue":
        return []
    action = root.text("action")
    if action not in ("create", "update"):
        return []
    data = root.child("data")
    key = linear_key(data.text("identifier"))
    if key is None:
        raise MalformedPayload("data.identifier: not a Linear issue identifier")
    changed = root.optional_child("updatedFrom")
    # updatedFrom holds the previous value of every changed field: without stateId, the state stayed.
    if action == "update" and changed is not None and not changed.has("stateId"):
        return []
    state = _LINEAR_STATES.get(data.child("state").text("type"))
    if action == "create":
        return _opened(key, state)
    return [_event(state, key)] if state is not None else []


# Jira: `webhookEvent` names the event; issue state is the status category of `fields.status`.

_JIRA_CATEGORIES = {"new": EventKind.REOPENED, "indeterminate": EventKind.IN_PROGRESS}
# Jira's default workflow, for a changelog whose issue carries no status field.
_JIRA_DEFAULT_STATUSES = {"to do": "new", "in progress": "indeterminate", "done": "done"}
_JIRA_NOT_PLANNED = {"won't do", "won't fix", "declined", "cannot reproduce", "duplicate"}


def _jira(root: Node) -> list[_Found]:
    event = root.text("webhookEvent")
    if event == "jira:version_released":
        return [_jira_version(root.child("version"))]
    if event not in ("jira:issue_created", "jira:issue_updated"):
        return []
    issue = root.child("issue")
    key = jira_key(issue.text("key"))
    if key is None:
        raise MalformedPayload("issue.key: not a Jira issue key")
    fields = issue.optional_child("fields")
    if event == "jira:issue_created":
        return _opened(key, _jira_state(fields, changes=[]))
    changelog = root.optional_child("changelog")
    changes = [item for item in (changelog.children("items") if changelog else []) if _is_state_change(item)]
    # Edits, comments and assignments that leave the status alone move nothing.
    if not changes:
        return []
    state = _jira_state(fields, changes=changes)
    return [_event(state, key)] if state is not None else []


def _is_state_change(item: Node) -> bool:
    return item.optional_text("field") in ("status", "resolution")


def _jira_state(fields: Node | None, *, changes: list[Node]) -> EventKind | None:
    status = fields.optional_child("status") if fields else None
    category_node = status.optional_child("statusCategory") if status else None
    category = category_node.text("key") if category_node else _category_from(changes)
    if category != "done":
        return _JIRA_CATEGORIES.get(category or "")
    resolution_node = fields.optional_child("resolution") if fields else None
    resolution = resolution_node.optional_text("name") if resolution_node else None
    if resolution is None:
        resolution = next(
            (
                item.optional_text("toString")
                for item in changes
                if item.optional_text("field") == "resolution"
            ),
            None,
        )
    normalized = (resolution or "").strip().lower().replace("\u2019", "'")
    return EventKind.NOT_PLANNED if normalized in _JIRA_NOT_PLANNED else EventKind.COMPLETED


def _category_from(changes: list[Node]) -> str | None:
    for item in changes:
        if item.optional_text("field") == "status":
            return _JIRA_DEFAULT_STATUSES.get((item.optional_text("toString") or "").strip().lower())
    return None


def _jira_version(version: Node) -> _Found:
    name = version.text("name")
    description = version.optional_text("description", limit=MAX_TEXT_LENGTH) or ""
    # The payload's `self` is a REST address, not a page a person can open.
    return (EventKind.RELEASE_PUBLISHED, (), TrackerRelease(tag=name, name=name, body=description, url=None))
