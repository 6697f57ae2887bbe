"""Safe rendering of user text in messages the bot writes."""

from __future__ import annotations

import re

# Unclosed forms too: Slack does not parse them, but they read as a ping and a later edit may close them.
_SPECIAL = re.compile(r"<!(channel|here|everyone)\b(\|[^>]*)?>?|<!subteam\^[^>]*>?", re.IGNORECASE)
# The plain words Slack links when it parses a message (`link_names`), at the start of a word.
_BARE = re.compile(r"(?<!\w)@(channel|here|everyone)\b", re.IGNORECASE)
# A word joiner: invisible, and it keeps "@here" from being one word.
_JOINER = "\u2060"
# NUL and the C0 controls but tab and newlines: never meaningful in text; PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def escape_mrkdwn(text: str) -> str:
    """User text made safe to show in anything the bot sends Slack: mrkdwn, `text`, plain_text.

    `&`, `<` and `>` are escaped, so no `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>` or
    `<@U…>` a person typed is read as a mention, and "@here"-style words are defused. NUL and other
    C0 control characters but newline and tab, which Slack refuses or shows as boxes, are dropped.
    """
    text = without_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE.sub(lambda m: "@" + _JOINER + m.group(1), text)


def strip_broadcasts(text: str) -> str:
    """For text already in Slack markup (converted release notes) or that Slack hands back unrendered
    (a button's value, a prefilled input): defuse broadcast and group mentions, keep user mentions."""
    text = _SPECIAL.sub(lambda m: "@" + (m.group(1) or "group"), without_controls(text))
    return _BARE.sub(lambda m: "@" + _JOINER + m.group(1), text)


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
