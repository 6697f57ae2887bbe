"""GitHub issue references in free text: `#12`, `owner/repo#12` and issue or pull request URLs."""

from __future__ import annotations

import re

from bot.integrations.keys import GITHUB_OWNER, GITHUB_REPO, ISSUE_NUMBER, github_key, github_key_for

_REFERENCE = (
    rf"(?:https?://(?:www\.)?github\.com/(?P<url_owner>{GITHUB_OWNER})/(?P<url_repo>{GITHUB_REPO})"
    rf"/(?:issues|pull)/(?P<url_number>{ISSUE_NUMBER})"
    rf"|(?<![\w/.-])(?P<owner>{GITHUB_OWNER})/(?P<repo>{GITHUB_REPO})#(?P<number>{ISSUE_NUMBER})"
    # Not "&#12;" (an HTML entity), "/#12" (a URL fragment) or "x#12".
    rf"|(?<![\w&/#])#(?P<local>{ISSUE_NUMBER}))(?!\w)"
)
_ANY = re.compile(_REFERENCE)
# GitHub's closing keywords, which it also accepts capitalised and followed by a colon.
_CLOSING = re.compile(rf"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?\s+{_REFERENCE}", re.IGNORECASE)


def referenced_issues(text: str, *, repository: str) -> tuple[str, ...]:
    """Every issue `text` mentions, as keys; a bare `#12` is in `repository` (`owner/repo`)."""
    return _keys(_ANY, text, repository)


def closed_issues(text: str, *, repository: str) -> tuple[str, ...]:
    """The issues a pull request body says it closes ("Fixes #12", "Closes owner/repo#3")."""
    return _keys(_CLOSING, text, repository)


def _keys(pattern: re.Pattern[str], text: str, repository: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for match in pattern.finditer(text):
        key = _key(match, repository)
        if key is not None:
            found.setdefault(key, None)
    return tuple(found)


def _key(match: re.Match[str], repository: str) -> str | None:
    if match["url_number"]:
        owner, repo, number = match["url_owner"], match["url_repo"], match["url_number"]
    elif match["number"]:
        owner, repo, number = match["owner"], match["repo"], match["number"]
    else:
        return github_key_for(full_name=repository, number=int(match["local"]))
    return github_key(owner=owner, repo=repo, number=int(number)) if int(number) > 0 else None
