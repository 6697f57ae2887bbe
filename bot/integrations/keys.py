"""One spelling of a tracker issue key, shared by pasted links and webhook events."""

from __future__ import annotations

import re

# GitHub logins are at most 39 characters of letters, digits and hyphens; repository names at
# most 100 of letters, digits, ".", "_" and "-".
GITHUB_OWNER = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}"
GITHUB_REPO = r"[A-Za-z0-9._-]{1,100}"
ISSUE_NUMBER = r"[0-9]{1,10}"
LINEAR_KEY = r"[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,10}"
JIRA_KEY = r"[A-Za-z][A-Za-z0-9_]{0,49}-[0-9]{1,10}"

_FULL_NAME = re.compile(rf"({GITHUB_OWNER})/({GITHUB_REPO})")
_LINEAR = re.compile(LINEAR_KEY)
_JIRA = re.compile(JIRA_KEY)


def github_key(*, owner: str, repo: str, number: int) -> str:
    """`owner/repo#123`, lower-cased because GitHub treats owner and repository names so."""
    return f"{owner}/{repo}#{number}".lower()


def github_key_for(*, full_name: str, number: int) -> str | None:
    """The key of issue `number` in repository `owner/repo`, or None when either is invalid."""
    match = _FULL_NAME.fullmatch(full_name)
    if match is None or number < 1 or len(str(number)) > 10:
        return None
    return github_key(owner=match[1], repo=match[2], number=number)


def linear_key(identifier: str) -> str | None:
    """`ENG-123`, or None when `identifier` is not a Linear issue identifier."""
    return identifier.upper() if _LINEAR.fullmatch(identifier) else None


def jira_key(key: str) -> str | None:
    """`PROJ-123`, or None when `key` is not a Jira issue key."""
    return key.upper() if _JIRA.fullmatch(key) else None
