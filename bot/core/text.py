"""Safe rendering of user text in messages the bot writes."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[^>]*>", re.IGNORECASE)
_BARE = re.compile(r"(?<![\w`])@(channel|here|everyone)\b", re.IGNORECASE)


def escape_mrkdwn(text: str) -> str:
    """Escape Slack control characters so user text can never ping @channel, @here or a group."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # After escaping no `<!...>` remains; bare words like "@here" are defused with a zero-width joiner.
    return _BARE.sub(lambda m: "@\u2060" + m.group(1), text)


def strip_broadcasts(text: str) -> str:
    """For text already in Slack markup: drop broadcast and group mentions, keep user mentions."""
    text = _SPECIAL.sub(lambda m: "@" + (m.group(1) or "group"), text)
    return _BARE.sub(lambda m: "@\u2060" + m.group(1), text)


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` characters at a word boundary where possible, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def plural_noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun for `count` things: "owner" for 1, "owners" otherwise (irregulars given)."""
    return singular if count == 1 else (plural_form or singular + "s")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun: "1 function owner", "4 function owners".

    Irregular plurals are given: `plural(n, "live launch", "live launches")`.
    """
    return f"{count} {plural_noun(count, singular, plural_form)}"


def and_list(items: list[str], *, limit: int = 6) -> str:
    """ "QA", "Engineering and QA", "Engineering, QA and Docs"; past `limit`, "… and 3 more"."""
    if len(items) > limit:
        shown = items[: limit - 1]
        return ", ".join(shown) + f" and {len(items) - len(shown)} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def user_mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_nobody_"


def channel_mention(channel_id: str | None) -> str:
    return f"<#{channel_id}>" if channel_id else "_none_"
