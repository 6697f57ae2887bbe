"""Webhook bodies without the documented shape are a MalformedPayload naming the field, never a crash."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from bot.integrations.events import MalformedPayload, TrackerEvent, tracker_events
from models.integration import Provider
from tests.integrations_payloads import (
    DELIVERY,
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
    repository,
    resolution_item,
)

MEGABYTE = "x" * 1_000_000


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: github("issues", ["not", "an", "object"]), "payload"),
        (lambda: github("issues", {"action": "opened", "repository": repository()}), "issue"),
        (lambda: github("issues", {**github_issue("opened"), "issue": [1, 2]}), "issue"),
        (lambda: github("issues", {**github_issue("opened"), "action": 7}), "action"),
        (
            lambda: github("issues", {**github_issue("opened"), "repository": {"full_name": "no-slash"}}),
            "full_name",
        ),
        (lambda: github("issues", {**github_issue("opened"), "repository": None}), "repository"),
        (lambda: linear({"type": "Issue", "action": "update"}), "data"),
        (
            lambda: linear({"type": "Issue", "action": "create", "data": {"identifier": "ENG 1"}}),
            "identifier",
        ),
        (
            lambda: linear(
                {"type": "Issue", "action": "update", "data": {"identifier": "ENG-1", "state": "started"}}
            ),
            "state",
        ),
        (lambda: jira({"webhookEvent": "jira:issue_updated", "issue": {"key": "not a key"}}), "issue.key"),
        (lambda: jira({**jira_issue(), "changelog": {"items": {"field": "status"}}}), "changelog.items"),
        (lambda: jira({**jira_issue(), "changelog": {"items": ["status"]}}), "changelog.items[0]"),
        (lambda: jira({"webhookEvent": "jira:version_released", "version": {"name": None}}), "version.name"),
        (lambda: jira({"webhookEvent": ["jira:issue_updated"]}), "webhookEvent"),
    ],
)
def test_payload_without_the_documented_shape_is_a_malformed_payload_naming_the_field(
    call: Any, field: str
) -> None:
    with pytest.raises(MalformedPayload, match=field.replace("[", r"\[").replace("]", r"\]")):
        call()


@pytest.mark.parametrize("number", ["123", 1.5, True, None, 0, -4, 10**12])
def test_github_issue_number_that_is_not_a_positive_integer_is_malformed(number: object) -> None:
    payload = github_issue("opened")
    payload["issue"]["number"] = number
    with pytest.raises(MalformedPayload):
        github("issues", payload)


def test_github_pull_request_closed_without_a_merged_flag_is_malformed() -> None:
    payload = github_pull("closed", body="Fixes #1")
    del payload["pull_request"]["merged"]
    with pytest.raises(MalformedPayload, match="merged"):
        github("pull_request", payload)


def test_one_megabyte_strings_are_refused_as_malformed() -> None:
    pull = github_pull("opened", body=MEGABYTE)
    release = github_release(body=MEGABYTE)
    issue = github_issue("opened")
    issue["action"] = MEGABYTE
    version = jira_version(description=MEGABYTE)
    for call in (
        lambda: github("pull_request", pull),
        lambda: github("release", release),
        lambda: github("issues", issue),
        lambda: jira(version),
        lambda: linear({**linear_issue("create", "started"), "type": MEGABYTE}),
    ):
        with pytest.raises(MalformedPayload, match="longer than"):
            call()


def test_nul_bytes_in_text_that_would_be_stored_are_refused_as_malformed() -> None:
    release = github_release()
    release["release"]["tag_name"] = "v2\x00.4"
    with pytest.raises(MalformedPayload, match="NUL"):
        github("release", release)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield path + (key,)
            yield from _paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield path + (index,)
            yield from _paths(child, path + (index,))


def _replaced(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    mutated = copy.deepcopy(payload)
    target = mutated
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return mutated


DOCUMENTED = [
    ("issues", Provider.GITHUB, github_issue("closed", state_reason="completed")),
    ("pull_request", Provider.GITHUB, github_pull("closed", body="Fixes #123", merged=True)),
    ("release", Provider.GITHUB, github_release()),
    ("Issue", Provider.LINEAR, linear_issue("update", "started", updated_from=STATE_CHANGED)),
    (
        None,
        Provider.JIRA,
        jira_issue(status="Done", previous="In Progress", extra_items=[resolution_item("Done")]),
    ),
]


@pytest.mark.parametrize(
    ("event_name", "provider", "payload"), DOCUMENTED, ids=[d[0] or "jira" for d in DOCUMENTED]
)
def test_any_field_replaced_by_a_wrong_type_gives_events_or_malformed_payload_never_another_error(
    event_name: str | None, provider: Provider, payload: dict[str, Any]
) -> None:
    replacements: list[Any] = [None, [], {}, "", 0, True, ["x"], {"x": {}}, "x" * 200_000]
    for path in _paths(payload):
        for value in replacements:
            mutated = _replaced(payload, path, value)
            try:
                events = tracker_events(
                    provider=provider, payload=mutated, delivery_id=DELIVERY, event_name=event_name
                )
            except MalformedPayload:
                continue
            assert all(isinstance(event, TrackerEvent) for event in events), (path, value)
