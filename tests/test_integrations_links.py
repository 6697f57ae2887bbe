"""Pasted tracker URLs become one provider, key and canonical URL; anything else is refused clearly."""

from __future__ import annotations

import pytest

from bot.integrations.links import MAX_URL_LENGTH, TrackerLink, parse_tracker_url
from models.integration import Provider

GITHUB, LINEAR, JIRA = Provider.GITHUB, Provider.LINEAR, Provider.JIRA


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (
            "https://github.com/acme/app/issues/123",
            TrackerLink(GITHUB, "acme/app#123", "https://github.com/acme/app/issues/123"),
        ),
        (
            "https://github.com/acme/app/pull/45",
            TrackerLink(GITHUB, "acme/app#45", "https://github.com/acme/app/pull/45"),
        ),
        (
            "https://github.com/acme/app/pull/45/files",
            TrackerLink(GITHUB, "acme/app#45", "https://github.com/acme/app/pull/45"),
        ),
        (
            "http://www.github.com/acme/app/issues/123#issuecomment-1",
            TrackerLink(GITHUB, "acme/app#123", "https://github.com/acme/app/issues/123"),
        ),
        (
            "https://github.com/Acme-Corp/web.app_v2/issues/7?notification_referrer_id=x",
            TrackerLink(GITHUB, "acme-corp/web.app_v2#7", "https://github.com/Acme-Corp/web.app_v2/issues/7"),
        ),
        (
            "https://linear.app/acme/issue/ENG-123/bulk-export-to-csv",
            TrackerLink(LINEAR, "ENG-123", "https://linear.app/acme/issue/ENG-123"),
        ),
        (
            "https://linear.app/acme/issue/eng-123",
            TrackerLink(LINEAR, "ENG-123", "https://linear.app/acme/issue/ENG-123"),
        ),
        (
            "https://acme.atlassian.net/browse/PROJ-123",
            TrackerLink(JIRA, "PROJ-123", "https://acme.atlassian.net/browse/PROJ-123"),
        ),
        (
            "https://acme.atlassian.net/jira/software/projects/PROJ/issues/PROJ-123",
            TrackerLink(JIRA, "PROJ-123", "https://acme.atlassian.net/browse/PROJ-123"),
        ),
        (
            "https://acme.atlassian.net/jira/software/c/projects/PROJ/issues/PROJ-123",
            TrackerLink(JIRA, "PROJ-123", "https://acme.atlassian.net/browse/PROJ-123"),
        ),
        (
            "https://acme.atlassian.net/jira/software/projects/PROJ/boards/1?selectedIssue=PROJ-123",
            TrackerLink(JIRA, "PROJ-123", "https://acme.atlassian.net/browse/PROJ-123"),
        ),
        (
            "https://Acme.Atlassian.net/issues/?jql=project%3DPROJ&selectedIssue=proj-9",
            TrackerLink(JIRA, "PROJ-9", "https://acme.atlassian.net/browse/PROJ-9"),
        ),
    ],
)
def test_tracker_issue_url_is_parsed_into_provider_key_and_canonical_url(
    pasted: str, expected: TrackerLink
) -> None:
    assert parse_tracker_url(pasted) == expected


def test_github_issue_and_pull_request_urls_share_one_key_format() -> None:
    issue = parse_tracker_url("https://github.com/Acme/App/issues/12")
    pull = parse_tracker_url("https://github.com/acme/app/pull/12")
    assert issue.key == pull.key == "acme/app#12"


def test_link_wrapped_by_slack_in_angle_brackets_with_a_label_is_unwrapped() -> None:
    link = parse_tracker_url("<https://github.com/acme/app/issues/12|acme/app#12>")
    assert link == TrackerLink(GITHUB, "acme/app#12", "https://github.com/acme/app/issues/12")


def test_link_with_surrounding_whitespace_or_without_a_scheme_is_accepted() -> None:
    assert parse_tracker_url("  https://linear.app/acme/issue/ENG-1 \n").key == "ENG-1"
    assert (
        parse_tracker_url("acme.atlassian.net/browse/PROJ-2").url
        == "https://acme.atlassian.net/browse/PROJ-2"
    )


@pytest.mark.parametrize(
    "pasted",
    [
        "https://github.com/acme/app",
        "https://github.com/acme/app/issues",
        "https://github.com/acme/app/issues/0",
        "https://github.com/acme/app/issues/abc",
        "https://github.com/acme/app/discussions/12",
        "https://github.com.evil.example/acme/app/issues/12",
        "https://evil.example/github.com/acme/app/issues/12",
        "https://github.com@evil.example/acme/app/issues/12",
        "https://user@github.com/acme/app/issues/12",
        "https://github.com:8443/acme/app/issues/12",
        "https://github.com:notaport/acme/app/issues/12",
        "ftp://github.com/acme/app/issues/12",
        "javascript:alert(1)",
        "https://gitlab.com/acme/app/-/issues/12",
        "https://linear.app/acme/project/exports-1a2b",
        "https://linear.app/acme/issue/123",
        "https://jira.acme.example/browse/PROJ-123",
        "https://acme.atlassian.net.evil.example/browse/PROJ-123",
        "https://acme.atlassian.net/browse/123",
        "https://acme.atlassian.net/wiki/spaces/PROJ",
        "https://acme.atlassian.net/jira/software/projects/PROJ/boards/1?selectedIssue=not-a-key!",
        "two https://github.com/acme/app/issues/1 links",
        "",
        "   ",
        "<>",
    ],
)
def test_url_that_names_no_tracker_issue_is_refused_with_what_is_accepted(pasted: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_tracker_url(pasted)
    message = str(refused.value)
    assert "GitHub" in message and "Linear" in message and "Jira" in message
    assert "https://github.com/owner/repo/issues/123" in message


def test_url_with_a_nul_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        parse_tracker_url("https://github.com/acme/app/issues/12\x00")


def test_url_of_one_megabyte_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(ValueError, match=f"longer than {MAX_URL_LENGTH}"):
        parse_tracker_url("https://github.com/acme/app/issues/12?" + "a" * 1_000_000)


def test_url_just_within_the_length_limit_is_accepted() -> None:
    base = "https://github.com/acme/app/issues/12?"
    link = parse_tracker_url(base + "a" * (MAX_URL_LENGTH - len(base)))
    assert link.key == "acme/app#12"


def test_link_that_is_not_text_is_refused_with_a_value_error() -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_tracker_url(12)  # type: ignore[arg-type]
