"""Tracker issue URLs pasted by people, turned into the provider, key and canonical URL of the issue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from bot.integrations.keys import (
    GITHUB_OWNER,
    GITHUB_REPO,
    ISSUE_NUMBER,
    JIRA_KEY,
    LINEAR_KEY,
    github_key,
    jira_key,
    linear_key,
)
from models.integration import Provider

# The width of ThemeLink.url: a longer URL could not be stored anyway.
MAX_URL_LENGTH = 1000

ACCEPTED = (
    "Paste the URL of a GitHub issue or pull request (https://github.com/owner/repo/issues/123), "
    "a Linear issue (https://linear.app/workspace/issue/ENG-123) "
    "or a Jira issue (https://your-site.atlassian.net/browse/PROJ-123)."
)

_GITHUB_HOSTS = {"github.com", "www.github.com"}
_GITHUB_PATH = re.compile(rf"/({GITHUB_OWNER})/({GITHUB_REPO})/(issues|pull)/({ISSUE_NUMBER})(?:/.*)?")
_LINEAR_PATH = re.compile(rf"/([A-Za-z0-9_-]{{1,100}})/issue/({LINEAR_KEY})(?:/[^/]*)?/?")
_JIRA_SITE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.atlassian\.net")
_JIRA_BROWSE = re.compile(rf"/browse/({JIRA_KEY})/?")
# Jira Cloud's project views: /jira/software/projects/PROJ/issues/PROJ-123, /jira/core/..., etc.
_JIRA_PROJECT_ISSUE = re.compile(rf"/jira/[A-Za-z0-9/_-]{{1,300}}/issues/({JIRA_KEY})/?")
_JIRA_SELECTED = re.compile(JIRA_KEY)


@dataclass(frozen=True)
class TrackerLink:
    provider: Provider
    key: str
    url: str


def parse_tracker_url(text: str) -> TrackerLink:
    """The tracker issue a pasted URL names; ValueError saying what is accepted otherwise."""
    url = _clean(text)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"That is not a valid URL. {ACCEPTED}") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or port is not None or parts.username is not None:
        raise ValueError(f"That is not a tracker issue link. {ACCEPTED}")
    link = None
    if host in _GITHUB_HOSTS:
        link = _github(parts.path)
    elif host == "linear.app":
        link = _linear(parts.path)
    elif _JIRA_SITE.fullmatch(host):
        link = _jira(host, parts.path, parts.query)
    if link is None:
        raise ValueError(f"That is not a tracker issue link. {ACCEPTED}")
    return link


def _clean(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError(f"A link must be text. {ACCEPTED}")
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"That link is longer than {MAX_URL_LENGTH} characters. {ACCEPTED}")
    if "\x00" in text:
        raise ValueError(f"That link contains a NUL character. {ACCEPTED}")
    url = text.strip()
    # Slack sends links it recognised as <url> or <url|label>.
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].split("|", 1)[0]
    if not url or any(ch.isspace() for ch in url):
        raise ValueError(f"Paste one link, without spaces. {ACCEPTED}")
    # People copy "github.com/acme/app/issues/12" from the address bar without its scheme.
    return url if "://" in url else f"https://{url}"


def _github(path: str) -> TrackerLink | None:
    match = _GITHUB_PATH.fullmatch(path)
    if match is None:
        return None
    owner, repo, kind, number = match[1], match[2], match[3], int(match[4])
    if number < 1:
        return None
    return TrackerLink(
        provider=Provider.GITHUB,
        key=github_key(owner=owner, repo=repo, number=number),
        url=f"https://github.com/{owner}/{repo}/{kind}/{number}",
    )


def _linear(path: str) -> TrackerLink | None:
    match = _LINEAR_PATH.fullmatch(path)
    key = linear_key(match[2]) if match else None
    if match is None or key is None:
        return None
    return TrackerLink(provider=Provider.LINEAR, key=key, url=f"https://linear.app/{match[1]}/issue/{key}")


def _jira(host: str, path: str, query: str) -> TrackerLink | None:
    match = _JIRA_BROWSE.fullmatch(path) or _JIRA_PROJECT_ISSUE.fullmatch(path)
    candidate = match[1] if match else None
    if candidate is None:
        # Boards and issue searches open an issue in a side panel: ?selectedIssue=PROJ-123.
        selected = parse_qs(query).get("selectedIssue", [])
        candidate = next((value for value in selected if _JIRA_SELECTED.fullmatch(value)), None)
    key = jira_key(candidate) if candidate else None
    if key is None:
        return None
    return TrackerLink(provider=Provider.JIRA, key=key, url=f"https://{host}/browse/{key}")


# Links typed into a modal: one per line, or separated by commas.
_LIST_SEPARATORS = re.compile(r"[,\n]")
MAX_LINKS = 20


def parse_tracker_urls(text: str) -> list[TrackerLink]:
    """Every tracker issue a list of pasted URLs names, each once, in order.

    ValueError naming the first entry that is not a tracker issue link, and what is accepted.
    """
    entries = [entry.strip() for entry in _LIST_SEPARATORS.split(text or "") if entry.strip()]
    if len(entries) > MAX_LINKS:
        raise ValueError(f"A theme can be tracked in at most {MAX_LINKS} issues; remove some links.")
    found: dict[tuple[Provider, str], TrackerLink] = {}
    for entry in entries:
        try:
            link = parse_tracker_url(entry)
        except ValueError as exc:
            shown = entry if len(entry) <= 80 else entry[:79] + "…"
            raise ValueError(f"“{shown}”: {exc}") from None
        found.setdefault((link.provider, link.key), link)
    return list(found.values())
