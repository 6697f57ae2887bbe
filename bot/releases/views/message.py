"""The announcement itself, in one language: exactly what is posted to a channel."""

from __future__ import annotations

import re
from typing import Any

from markdown_to_mrkdwn import SlackMarkdownConverter
from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.core.text import escape_mrkdwn, strip_broadcasts, truncate
from bot.releases.releases import ReleaseCopy
from bot.releases.views._common import _chunks
from bot.slack.blocks import as_dicts, context, section

# The few words the bot itself adds to a posted message, in the reader's language.
LABELS: dict[str, dict[str, str]] = {
    "en": {"launch": "Part of", "themes": "You asked for it"},
    "fr": {"launch": "Fait partie de", "themes": "Vous l'aviez demandé"},
    "de": {"launch": "Teil von", "themes": "Von euch gewünscht"},
    "es": {"launch": "Parte de", "themes": "Lo pediste"},
    "it": {"launch": "Parte di", "themes": "L'avete chiesto"},
    "pt": {"launch": "Parte de", "themes": "Você pediu"},
    "nl": {"launch": "Onderdeel van", "themes": "Jullie vroegen erom"},
    "ja": {"launch": "ローンチ", "themes": "ご要望にお応えしました"},
    "ko": {"launch": "출시", "themes": "요청하신 기능"},
    "zh": {"launch": "所属发布", "themes": "应您的要求"},
}


HEADER_LIMIT = 150


def _labels(locale: str) -> dict[str, str]:
    return LABELS.get(locale) or LABELS.get(locale.split("-")[0]) or LABELS["en"]


_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_QUOTE_PREFIX = re.compile(r"^(\s*(?:>\s?)*)(.*)$")


def _escape_markdown_source(markdown: str) -> str:
    """Escape Slack's control characters in markdown, keeping autolinks and blockquotes."""
    markdown = _AUTOLINK.sub(lambda m: f"[{m.group(1)}]({m.group(1)})", markdown)
    lines = []
    for line in markdown.splitlines():
        match = _QUOTE_PREFIX.match(line)
        prefix, rest = (match.group(1), match.group(2)) if match else ("", line)
        rest = rest.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(prefix + rest)
    return "\n".join(lines)


def notes_mrkdwn(markdown: str) -> str:
    """Markdown release notes as Slack mrkdwn; nothing in them can ping a person or a channel."""
    if not markdown.strip():
        return ""
    converted = SlackMarkdownConverter().convert(_escape_markdown_source(markdown))
    return strip_broadcasts(converted).strip()


def headline(copy: ReleaseCopy) -> str:
    return f"{copy.title} {copy.version or ''}".strip()


def release_message(copy: ReleaseCopy) -> tuple[str, list[dict[str, Any]]]:
    """The announcement in one language: fallback text and blocks, exactly as posted."""
    blocks: list[Block] = [
        # Plain text never notifies, but a literal "<!channel>" there would still read as one.
        HeaderBlock(
            text=PlainTextObject(
                text=truncate(f":rocket: {strip_broadcasts(headline(copy))}", HEADER_LIMIT), emoji=True
            )
        )
    ]
    if copy.summary:
        blocks.append(section(escape_mrkdwn(copy.summary)))
    for chunk in _chunks(notes_mrkdwn(copy.notes))[:40]:
        blocks.append(section(chunk))
    labels = _labels(copy.locale)
    footer = []
    if copy.launch_name:
        footer.append(f"{labels['launch']} *{escape_mrkdwn(copy.launch_name)}*")
    if copy.themes:
        footer.append(f"{labels['themes']}: " + ", ".join(f"*{escape_mrkdwn(t)}*" for t in copy.themes))
    if footer:
        blocks.append(context(" · ".join(footer)))
    summary = f": {copy.summary}" if copy.summary else ""
    text = truncate(escape_mrkdwn(f"{headline(copy)}{summary}"), 300)
    return text, as_dicts(blocks)
