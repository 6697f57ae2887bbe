"""What a failed Slack call means for a delivery: worth another try later (Slack is down, slow or
asking to wait), or refused for good (the channel or person is gone, the bot may not post there),
and how to say why to a person.

Release posts, theme ship notices, standup prompts and ownership DMs all read Slack's answers here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiohttp
from slack_sdk.errors import SlackApiError

# Slack says to try again later; every other refusal is final.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# The channel is gone or closed to the bot, or Slack refuses the message itself: retrying will not
# help until someone acts.
CHANNEL_ERRORS = {
    "channel_not_found": "the channel does not exist, or it is private and Switchboard is not in it",
    "not_in_channel": "Switchboard is not a member; invite it with `/invite @Switchboard`",
    "is_archived": "the channel is archived",
    "restricted_action": "a workspace setting stops Switchboard posting there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel only allows posts in threads",
    "restricted_action_non_threadable_channel": "the channel does not allow this kind of post",
    "ekm_access_denied": "the workspace's encryption keys deny access",
    "team_access_not_granted": "Switchboard has no access to the channel's workspace",
    "cant_update_message": "Slack no longer lets the message be edited",
    "message_not_found": "the message was deleted",
    "thread_not_found": "the thread was deleted",
    "edit_window_closed": "the workspace no longer allows editing the message",
    "account_inactive": "Switchboard's Slack token was deactivated; reinstall the app",
    "token_revoked": "Switchboard's Slack token was revoked; reinstall the app",
    "invalid_auth": "Slack did not accept Switchboard's token; reinstall the app",
    "msg_too_long": "the message is too long for Slack; shorten the notes and retry",
    "invalid_blocks": "Slack refused the message layout; shorten or simplify the notes and retry",
}
# The same refusals when the message is a DM: what they say about the person.
PERSON_ERRORS = {
    "user_not_found": "Slack does not know them (they may have left the workspace)",
    "users_not_found": "Slack does not know them (they may have left the workspace)",
    "account_inactive": "their Slack account is deactivated",
    "user_disabled": "their Slack account is deactivated",
    "cannot_dm_bot": "they are a bot, and bots cannot be sent DMs",
    "channel_not_found": "Slack found no DM with them",
    "not_allowed_token_type": "Switchboard's token may not DM them",
    "restricted_action": "a workspace setting stops Switchboard messaging them",
}
# Slack said who is gone: the person is no longer (or never was) in the workspace.
PERSON_GONE = frozenset({"user_not_found", "users_not_found", "account_inactive", "user_disabled"})

Audience = Literal["channel", "person"]


@dataclass(frozen=True)
class SlackFailure:
    """One failed call: Slack's error (or `http_<status>`, or `connection: <kind>`), whether a later
    try may succeed, and how long Slack asked to wait first."""

    error: str
    transient: bool
    retry_after: float | None = None

    @property
    def rate_limited(self) -> bool:
        return self.error in ("ratelimited", "http_429")


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code, or `http_<status>` when the answer carried none (a 5xx page)."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{exc.response.status_code}"


def retry_after(exc: SlackApiError) -> float:
    """The seconds Slack's `Retry-After` asks for (1 when it is missing or unreadable)."""
    headers = {str(k).lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after", "1")
    if isinstance(value, list):
        value = value[0] if value else "1"
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0


def classify(exc: BaseException) -> SlackFailure | None:
    """What a failed call to Slack means; None when `exc` is not about talking to Slack."""
    if isinstance(exc, SlackApiError):
        error = slack_error(exc)
        status = exc.response.status_code
        if status == 429 or error == "ratelimited":
            return SlackFailure(error, True, retry_after(exc))
        refused = error in CHANNEL_ERRORS or error in PERSON_ERRORS
        return SlackFailure(error, not refused and (status >= 500 or error in TRANSIENT_ERRORS))
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        # The message may have reached Slack; the next attempt looks before posting again.
        return SlackFailure(f"connection: {type(exc).__name__}", True)
    return None


def is_transient(error: str) -> bool:
    """Whether a recorded error code is one of Slack being unreachable rather than refusing."""
    return error in TRANSIENT_ERRORS or error == "http_429" or error.startswith(("http_5", "connection"))


def is_permanent(exc: BaseException) -> bool:
    """Slack refused the call for good: trying again cannot help."""
    failure = classify(exc)
    return failure is not None and not failure.transient


def internal_error(exc: BaseException) -> str:
    """The error recorded when a delivery failed inside Switchboard rather than at Slack."""
    return f"internal: {type(exc).__name__}"


def describe(error: str, *, audience: Audience, window_hours: float | None = None) -> str:
    """Why a message did not arrive, in words (no trailing period)."""
    if error.startswith("internal"):
        return "Switchboard ran into an error sending it"
    if is_transient(error):
        span = f"{window_hours:g} hours" if window_hours else "the whole delivery window"
        return f"Slack could not be reached for {span}"
    if audience == "person" and error in PERSON_ERRORS:
        return PERSON_ERRORS[error]
    if error in CHANNEL_ERRORS:
        return CHANNEL_ERRORS[error]
    return "Slack refused the message"
