"""What the release views share: language names, dates in Slack, long text in chunks, and a
release's facts (channels, when, approver)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.text import escape_mrkdwn, user_mention
from models import Release, ReleasePost, ReleaseStatus

LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "pt-BR": "Portuguese (Brazil)",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "fi": "Finnish",
    "no": "Norwegian",
    "pl": "Polish",
    "cs": "Czech",
    "tr": "Turkish",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ar": "Arabic",
    "he": "Hebrew",
    "hi": "Hindi",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
    "zh-TW": "Chinese (Traditional)",
    "id": "Indonesian",
    "vi": "Vietnamese",
    "th": "Thai",
}


# Below Slack's 3,000-character section limit, leaving room for escaping.
NOTES_CHUNK = 2800


def language_name(locale: str) -> str:
    return LANGUAGES.get(locale) or LANGUAGES.get(locale.split("-")[0]) or locale


def _time(moment: datetime | None, *, zone: str = "UTC", fallback: str = "not set") -> str:
    """A date and time Slack shows in each reader's own timezone (else in `zone`)."""
    if moment is None:
        return fallback
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local, zone = moment.astimezone(ZoneInfo("UTC")), "UTC"
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{local:%Y-%m-%d %H:%M} {zone}>"


def _chunks(text: str, limit: int = NOTES_CHUNK) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return chunks


def _when(release: Release) -> str:
    if release.status in {ReleaseStatus.POSTED, ReleaseStatus.PARTIALLY_POSTED}:
        return f"posted {_time(release.posted_at, zone=release.timezone)}"
    if release.scheduled_at is not None:
        return _time(release.scheduled_at, zone=release.timezone)
    if release.post_when_approved:
        return "as soon as it is approved"
    return "no time set yet"


def release_facts(release: Release, posts: list[ReleasePost]) -> str:
    locales = Counter(p.locale for p in posts)
    languages = ", ".join(f"{language_name(loc)} ({n})" for loc, n in sorted(locales.items()))
    lines = [
        f"*Channels:* {len(posts)} — {languages or 'none'}",
        f"*When:* {_when(release)}",
        f"*Approver:* {user_mention(release.approver)}",
    ]
    if release.approved_by:
        lines.append(f"*Approved by:* {_actor(release.approved_by)} {_time(release.approved_at)}")
    return "\n".join(lines)


def _actor(actor: str | None) -> str:
    if not actor:
        return "someone"
    if actor == "scheduler":
        return "Switchboard"
    if re.fullmatch(r"[UW][A-Z0-9]+", actor):
        return user_mention(actor)
    return f"`{escape_mrkdwn(actor)}`"
