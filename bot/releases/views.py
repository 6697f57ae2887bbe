"""Block Kit for release announcements: the message itself, previews, the modal, DMs and status."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markdown_to_mrkdwn import SlackMarkdownConverter
from pydantic import BaseModel, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConversationFilter,
    ConversationMultiSelectElement,
    DatePickerElement,
    DividerBlock,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import channel_mention, escape_mrkdwn, plural, strip_broadcasts, truncate, user_mention
from bot.releases.compose import ReleaseCopy
from bot.releases.posting import CHANNEL_ERRORS
from bot.slack.blocks import as_dicts, context, plain, section, text_input
from models import PostState, Release, ReleaseEvent, ReleasePost, ReleaseStatus


class ReleaseId(StrEnum):
    MODAL = "release_compose"
    CHANGES_MODAL = "release_changes"
    TITLE_BLOCK = "release_title"
    TITLE = "title"
    VERSION_BLOCK = "release_version"
    VERSION = "version"
    SUMMARY_BLOCK = "release_summary"
    SUMMARY = "summary"
    NOTES_BLOCK = "release_notes"
    NOTES = "notes"
    LAUNCH_BLOCK = "release_launch"
    LAUNCH = "release_launch_pick"
    THEMES_BLOCK = "release_themes"
    THEMES = "release_themes_pick"
    CHANNELS_BLOCK = "release_channels"
    CHANNELS = "channels"
    DEFAULT_LOCALE_BLOCK = "release_default_locale"
    DEFAULT_LOCALE = "default_locale"
    ADD_LOCALE_BLOCK = "release_add_locale"
    ADD_LOCALE = "release_add_locale_pick"
    # Per-language blocks are `<prefix>:<locale>`.
    VARIANT_TITLE = "release_variant_title"
    VARIANT_SUMMARY = "release_variant_summary"
    VARIANT_NOTES = "release_variant_notes"
    VARIANT_CHANNELS = "release_variant_channels"
    VARIANT_VALUE = "value"
    WHEN_BLOCK = "release_when"
    WHEN = "when"
    DATE_BLOCK = "release_date"
    DATE = "date"
    TIME_BLOCK = "release_time"
    TIME = "time"
    TIMEZONE_BLOCK = "release_timezone"
    TIMEZONE = "timezone"
    APPROVER_BLOCK = "release_approver"
    APPROVER = "approver"
    REASON_BLOCK = "release_reason"
    REASON = "reason"
    SUBMIT = "release_submit"
    EDIT = "release_edit"
    DISCARD = "release_discard"
    APPROVE = "release_approve"
    REQUEST_CHANGES = "release_request_changes"
    RETRY = "release_retry"
    CANCEL = "release_cancel"


WHEN_NOW = "now"
WHEN_AT = "at"

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

TIMEZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
]

USAGE = (
    "*/release* announces releases to many channels, in each channel's language.\n"
    "• `/release new` — compose one (or use the *New release* shortcut)\n"
    "• `/release list` — recent releases\n"
    "• `/release status <release>` — where it was posted, with links\n"
    "• `/release cancel <release>` — call it off before it posts\n"
    "Name a release by its number (`12` or `#12`), its version or its title."
)

STATUS_EMOJI: dict[str, str] = {
    ReleaseStatus.DRAFT: ":pencil2:",
    ReleaseStatus.PENDING_APPROVAL: ":hourglass_flowing_sand:",
    ReleaseStatus.APPROVED: ":white_check_mark:",
    ReleaseStatus.SCHEDULED: ":calendar:",
    ReleaseStatus.POSTING: ":outbox_tray:",
    ReleaseStatus.POSTED: ":rocket:",
    ReleaseStatus.CANCELLED: ":no_entry_sign:",
}
POST_EMOJI: dict[str, str] = {
    PostState.PENDING: ":hourglass_flowing_sand:",
    PostState.POSTING: ":outbox_tray:",
    PostState.POSTED: ":white_check_mark:",
    PostState.FAILED: ":x:",
    PostState.CANCELLED: ":no_entry_sign:",
}

HEADER_LIMIT = 150
# Below Slack's 3,000-character section limit, leaving room for escaping.
NOTES_CHUNK = 2800
# A message holds 50 blocks; the status list shows this many channels, then a count.
STATUS_LINES = 120


def language_name(locale: str) -> str:
    return LANGUAGES.get(locale) or LANGUAGES.get(locale.split("-")[0]) or locale


def _labels(locale: str) -> dict[str, str]:
    return LABELS.get(locale) or LABELS.get(locale.split("-")[0]) or LABELS["en"]


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


# ---- preview and approval -----------------------------------------------------------------------


def preview(copy: ReleaseCopy, channels: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The message as it will post in `channels`, under one line saying so."""
    text, blocks = release_message(copy)
    where = ", ".join(channel_mention(c) for c in channels[:20])
    if len(channels) > 20:
        where += f" and {len(channels) - 20} more"
    label = context(
        f":eyes: Preview in *{language_name(copy.locale)}* (`{copy.locale}`) — "
        f"will post to {where or '_no channel_'}"
    )
    return f"Preview ({copy.locale}): {text}", [label.to_dict(), *blocks]


def _when(release: Release) -> str:
    if release.status == ReleaseStatus.POSTED:
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


def preview_controls(release: Release, posts: list[ReleasePost]) -> tuple[str, list[dict[str, Any]]]:
    """Under the previews: what happens next, and the buttons to do it."""
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    blocks: list[Block] = [
        section(f"*Release #{release.id} — {title}* is a draft.\n{release_facts(release, posts)}"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Send for approval"),
                    action_id=ReleaseId.SUBMIT,
                    value=str(release.id),
                    style="primary",
                ),
                ButtonElement(text=plain("Edit"), action_id=ReleaseId.EDIT, value=str(release.id)),
                ButtonElement(
                    text=plain("Discard"), action_id=ReleaseId.DISCARD, value=str(release.id), style="danger"
                ),
            ]
        ),
    ]
    return f"Release #{release.id} is a draft", as_dicts(blocks)


def approval_request(
    release: Release, posts: list[ReleasePost], copy: ReleaseCopy
) -> tuple[str, list[dict[str, Any]]]:
    """The approver's DM: the message as it will post, the facts, Approve / Request changes."""
    _text, message = release_message(copy)
    value = f"{release.id}:{release.revision}"
    head = section(
        f":inbox_tray: {user_mention(release.owner)} asks you to approve release *#{release.id}* "
        f"before it is posted.\n{release_facts(release, posts)}"
    )
    others = sorted({p.locale for p in posts} - {copy.locale})
    blocks: list[dict[str, Any]] = [head.to_dict(), DividerBlock().to_dict(), *message]
    if others:
        blocks.append(
            context(
                "Also posted in " + ", ".join(language_name(o) for o in others) + " (`/release status "
                f"{release.id}` shows every channel)."
            ).to_dict()
        )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Approve"), action_id=ReleaseId.APPROVE, value=value, style="primary"
                ),
                ButtonElement(
                    text=plain("Request changes"), action_id=ReleaseId.REQUEST_CHANGES, value=value
                ),
            ]
        ).to_dict()
    )
    return f"Please approve release #{release.id}: {escape_mrkdwn(release.title)}", blocks


def approval_answered(release: Release, *, approved: bool, by: str) -> str:
    title = escape_mrkdwn(release.title)
    if approved:
        return (
            f":white_check_mark: {user_mention(by)} approved release *#{release.id} {title}*. "
            f"It posts {_when(release)}."
        )
    return f":memo: {user_mention(by)} sent release *#{release.id} {title}* back for changes."


def changes_modal(release: Release, revision: int) -> View:
    return View(
        type="modal",
        callback_id=ReleaseId.CHANGES_MODAL,
        title=plain("Request changes"),
        submit=plain("Send back"),
        close=plain("Cancel"),
        private_metadata=f"{release.id}:{revision}",
        blocks=[
            section(f"What should change in *{escape_mrkdwn(release.title)}*?"),
            InputBlock(
                block_id=ReleaseId.REASON_BLOCK,
                label=plain("Changes needed"),
                element=text_input(ReleaseId.REASON, multiline=True, max_length=2000),
            ),
        ],
    )


def owner_notice(release: Release, event: ReleaseEvent) -> str:
    """The DM telling the owner (or approver) what someone else did to their release."""
    title = f"*#{release.id} {escape_mrkdwn(release.title)}*"
    actor = _actor(event.actor)
    if event.kind == "approved":
        return f":white_check_mark: {actor} approved release {title}. It posts {_when(release)}."
    if event.kind == "changes_requested":
        reason = escape_mrkdwn(str(event.detail.get("reason") or "")).strip()
        quoted = "\n" + "\n".join(f"> {line}" for line in reason.splitlines()) if reason else ""
        return (
            f":memo: {actor} asked for changes to release {title} before approving it.{quoted}\n"
            f"Edit it with `/release status {release.id}` → *Edit*; it goes back for approval."
        )
    if event.kind == "cancelled":
        return f":no_entry_sign: {actor} cancelled release {title}; nothing was posted."
    return f"Release {title}: {event.kind.replace('_', ' ')} by {actor}."


def _actor(actor: str | None) -> str:
    if not actor:
        return "someone"
    if actor == "scheduler":
        return "Switchboard"
    if re.fullmatch(r"[UW][A-Z0-9]+", actor):
        return user_mention(actor)
    return f"`{escape_mrkdwn(actor)}`"


# ---- after posting ------------------------------------------------------------------------------


def _post_line(post: ReleasePost) -> str:
    where = channel_mention(post.channel)
    language = f" ({post.locale})"
    if post.state == PostState.POSTED:
        link = f"<{post.permalink}|view>" if post.permalink else "posted"
        edit = ""
        if post.error:
            edit = f" — :warning: {escape_mrkdwn(post.error)}"
        elif post.edited_at:
            edit = " — edited"
        return f"{POST_EMOJI[PostState.POSTED]} {where}{language} — {link}{edit}"
    if post.state == PostState.FAILED:
        error = post.error or "failed"
        hint = CHANNEL_ERRORS.get(error)
        return f"{POST_EMOJI[PostState.FAILED]} {where}{language} — `{escape_mrkdwn(error)}`" + (
            f": {hint}" if hint else ""
        )
    state = str(post.state)
    retry = (
        f" (retrying: {escape_mrkdwn(post.error)})" if post.error and post.state == PostState.PENDING else ""
    )
    return f"{POST_EMOJI.get(post.state, '')} {where}{language} — {state}{retry}"


def _post_sections(posts: list[ReleasePost]) -> list[Block]:
    lines = [_post_line(p) for p in posts[:STATUS_LINES]]
    if len(posts) > STATUS_LINES:
        lines.append(f"…and {len(posts) - STATUS_LINES} more channels (the admin API lists them all).")
    blocks: list[Block] = []
    for chunk in _chunks("\n".join(lines)):
        blocks.append(section(chunk))
    return blocks


def posting_report(
    release: Release, posts: list[ReleasePost], themes: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    """The owner's DM once every channel has an answer: where it went, and what to fix."""
    posted = [p for p in posts if p.state == PostState.POSTED]
    failed = [p for p in posts if p.state == PostState.FAILED]
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    where = f"{len(posted)} of {plural(len(posts), 'channel')}"
    head = f":rocket: Release *#{release.id} {title}* is posted in {where}."
    blocks: list[Block] = [section(head)]
    if failed:
        blocks.append(section(f":warning: *{plural(len(failed), 'channel')} did not get it:*"))
        blocks.extend(_post_sections(failed))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=plain("Retry those channels"), action_id=ReleaseId.RETRY, value=str(release.id)
                    )
                ]
            )
        )
    if themes:
        names = ", ".join(f"*{escape_mrkdwn(t)}*" for t in themes)
        blocks.append(context(f"Marked shipped: {names} — everyone who asked for them is being told."))
    text = f"Release #{release.id} posted in {len(posted)} of {plural(len(posts), 'channel')}"
    if failed:
        text += f"; {len(failed)} failed"
    return text, as_dicts(blocks)


def release_status(
    release: Release, posts: list[ReleasePost], events: list[ReleaseEvent]
) -> tuple[str, list[dict[str, Any]]]:
    """`/release status`: state, schedule, approval, and every channel with a link."""
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    emoji = STATUS_EMOJI.get(release.status, "")
    blocks: list[Block] = [
        section(
            f"{emoji} *Release #{release.id} — {title}* is *{str(release.status).replace('_', ' ')}*.\n"
            f"{release_facts(release, posts)}"
        ),
        *_post_sections(posts),
    ]
    if events:
        recent = [f"{e.kind.replace('_', ' ')} by {_actor(e.actor)} {_time(e.at)}" for e in events[-5:]]
        blocks.append(context(" · ".join(recent)))
    buttons: list[ButtonElement] = []
    if release.status != ReleaseStatus.CANCELLED:
        buttons.append(ButtonElement(text=plain("Edit"), action_id=ReleaseId.EDIT, value=str(release.id)))
    if any(p.state == PostState.FAILED for p in posts):
        buttons.append(
            ButtonElement(
                text=plain("Retry failed channels"), action_id=ReleaseId.RETRY, value=str(release.id)
            )
        )
    if release.status in {
        ReleaseStatus.DRAFT,
        ReleaseStatus.PENDING_APPROVAL,
        ReleaseStatus.APPROVED,
        ReleaseStatus.SCHEDULED,
    }:
        buttons.append(
            ButtonElement(
                text=plain("Cancel"), action_id=ReleaseId.CANCEL, value=str(release.id), style="danger"
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return f"Release #{release.id} is {release.status}", as_dicts(blocks)


def release_list(releases: list[Release], counts: dict[int, Counter[str]]) -> list[dict[str, Any]]:
    if not releases:
        return as_dicts([section("No releases yet. `/release new` composes one.")])
    lines = []
    for r in releases:
        total = sum(counts.get(r.id, Counter()).values())
        emoji = STATUS_EMOJI.get(r.status, "")
        title = escape_mrkdwn(f"{r.title} {r.version or ''}".strip())
        lines.append(
            f"{emoji} *#{r.id}* {title} — {str(r.status).replace('_', ' ')} · {_when(r)} · "
            f"{plural(total, 'channel')}"
        )
    blocks: list[Block] = [section(chunk) for chunk in _chunks("\n".join(lines))]
    blocks.append(context("`/release status <number>` shows where one was posted."))
    return as_dicts(blocks)


def usage() -> list[dict[str, Any]]:
    return as_dicts([section(USAGE)])


# ---- the compose modal ----------------------------------------------------------------------------


class ComposeMetadata(BaseModel):
    """Carried in the modal's `private_metadata`."""

    release_id: int | None = None
    channel_id: str | None = None
    locales: list[str] = Field(default_factory=list)
    # Already posted: only the text can change (every message follows).
    locked: bool = False


@dataclass
class ComposeForm:
    """Initial values of the modal (empty for a new release)."""

    title: str = ""
    version: str = ""
    summary: str = ""
    notes: str = ""
    default_locale: str = "en"
    launch: tuple[int, str] | None = None
    themes: list[tuple[int, str]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    variant_channels: dict[str, list[str]] = field(default_factory=dict)
    when: str = WHEN_NOW
    date: str | None = None
    time: str | None = None
    timezone: str = "UTC"
    approver: str | None = None


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=plain(label))


def language_option(locale: str) -> Option:
    return _option(locale, f"{language_name(locale)} ({locale})")


def _variant_blocks(locale: str, form: ComposeForm, *, locked: bool) -> list[Block]:
    values = form.variants.get(locale, {})
    name = language_name(locale)
    channels = form.variant_channels.get(locale) or None
    blocks: list[Block] = [
        DividerBlock(),
        section(f"*{name}* (`{locale}`) — blank fields use the default text."),
    ]
    if not locked:
        blocks.append(
            InputBlock(
                block_id=f"{ReleaseId.VARIANT_CHANNELS}:{locale}",
                label=plain(f"Channels that read {name}"),
                optional=True,
                element=ConversationMultiSelectElement(
                    action_id=ReleaseId.VARIANT_VALUE,
                    initial_conversations=channels,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    return blocks + [
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_TITLE}:{locale}",
            label=plain(f"Title in {name}"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("title"), max_length=200),
        ),
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_SUMMARY}:{locale}",
            label=plain(f"Summary in {name}"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("summary"), multiline=True),
        ),
        InputBlock(
            block_id=f"{ReleaseId.VARIANT_NOTES}:{locale}",
            label=plain(f"Notes in {name} (Markdown)"),
            optional=True,
            element=text_input(ReleaseId.VARIANT_VALUE, initial=values.get("notes"), multiline=True),
        ),
    ]


def compose_modal(form: ComposeForm, metadata: ComposeMetadata) -> View:
    """The release modal; every language in `metadata.locales` gets its own fields. Once posted
    (`locked`), only the text is editable."""
    locked = metadata.locked
    blocks: list[Block] = [
        InputBlock(
            block_id=ReleaseId.TITLE_BLOCK,
            label=plain("Title"),
            element=text_input(ReleaseId.TITLE, initial=form.title, max_length=200),
        ),
        InputBlock(
            block_id=ReleaseId.VERSION_BLOCK,
            label=plain("Version"),
            optional=True,
            element=text_input(ReleaseId.VERSION, initial=form.version, max_length=64),
        ),
        InputBlock(
            block_id=ReleaseId.SUMMARY_BLOCK,
            label=plain("Summary"),
            optional=True,
            element=text_input(ReleaseId.SUMMARY, initial=form.summary, multiline=True),
        ),
        InputBlock(
            block_id=ReleaseId.NOTES_BLOCK,
            label=plain("Release notes (Markdown)"),
            optional=True,
            element=text_input(ReleaseId.NOTES, initial=form.notes, multiline=True),
        ),
        InputBlock(
            block_id=ReleaseId.LAUNCH_BLOCK,
            label=plain("Launch"),
            optional=True,
            element=ExternalDataSelectElement(
                action_id=ReleaseId.LAUNCH,
                placeholder=plain("Part of a launch?"),
                min_query_length=0,
                initial_option=_option(str(form.launch[0]), form.launch[1]) if form.launch else None,
            ),
        ),
        InputBlock(
            block_id=ReleaseId.THEMES_BLOCK,
            label=plain("Shipped themes (their requesters are told)"),
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id=ReleaseId.THEMES,
                placeholder=plain("Customer-voice themes this ships"),
                min_query_length=0,
                initial_options=[_option(str(i), t) for i, t in form.themes] or None,
            ),
        ),
    ]
    if locked:
        blocks.append(
            context(
                ":lock: Already posted: the channels, schedule and approver stay as they are. "
                "Saving updates every posted message."
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=ReleaseId.CHANNELS_BLOCK,
                label=plain("Audience channels"),
                element=ConversationMultiSelectElement(
                    action_id=ReleaseId.CHANNELS,
                    initial_conversations=form.channels or None,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ReleaseId.DEFAULT_LOCALE_BLOCK,
            label=plain("Default language"),
            element=StaticSelectElement(
                action_id=ReleaseId.DEFAULT_LOCALE,
                options=[language_option(loc) for loc in LANGUAGES],
                initial_option=language_option(form.default_locale),
            ),
        )
    )
    for locale in metadata.locales:
        if locale != form.default_locale:
            blocks.extend(_variant_blocks(locale, form, locked=locked))
    addable = [loc for loc in LANGUAGES if loc not in metadata.locales and loc != form.default_locale]
    if not locked:
        blocks.append(
            ActionsBlock(
                block_id=ReleaseId.ADD_LOCALE_BLOCK,
                elements=[
                    StaticSelectElement(
                        action_id=ReleaseId.ADD_LOCALE,
                        placeholder=plain("Add a language…"),
                        options=[language_option(loc) for loc in addable],
                    )
                ],
            )
        )
        blocks += _schedule_blocks(form)
    editing = metadata.release_id is not None
    return View(
        type="modal",
        callback_id=ReleaseId.MODAL,
        title=plain("Edit release" if editing else "New release"),
        submit=plain("Save" if editing else "Preview"),
        close=plain("Cancel"),
        private_metadata=metadata.model_dump_json(),
        blocks=blocks,
    )


def _schedule_blocks(form: ComposeForm) -> list[Block]:
    when_options = [
        _option(WHEN_NOW, "As soon as it is approved"),
        _option(WHEN_AT, "At the date and time below"),
    ]
    zones = TIMEZONES if form.timezone in TIMEZONES else [form.timezone, *TIMEZONES]
    return [
        DividerBlock(),
        InputBlock(
            block_id=ReleaseId.WHEN_BLOCK,
            label=plain("When to post"),
            element=RadioButtonsElement(
                action_id=ReleaseId.WHEN,
                options=when_options,
                initial_option=when_options[0] if form.when == WHEN_NOW else when_options[1],
            ),
        ),
        InputBlock(
            block_id=ReleaseId.DATE_BLOCK,
            label=plain("Date"),
            optional=True,
            element=DatePickerElement(action_id=ReleaseId.DATE, initial_date=form.date),
        ),
        InputBlock(
            block_id=ReleaseId.TIME_BLOCK,
            label=plain("Time"),
            optional=True,
            element=TimePickerElement(action_id=ReleaseId.TIME, initial_time=form.time),
        ),
        InputBlock(
            block_id=ReleaseId.TIMEZONE_BLOCK,
            label=plain("Timezone"),
            element=StaticSelectElement(
                action_id=ReleaseId.TIMEZONE,
                options=[_option(z, z) for z in zones],
                initial_option=_option(form.timezone, form.timezone),
            ),
        ),
        InputBlock(
            block_id=ReleaseId.APPROVER_BLOCK,
            label=plain("Approver"),
            element=UserSelectElement(action_id=ReleaseId.APPROVER, initial_user=form.approver),
        ),
    ]


def option_list(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Options for an external select, as Slack wants them."""
    return [_option(str(value), label).to_dict() for value, label in items]


def saved_notice(release: Release, *, approval_reset: bool, updates_posts: bool) -> str:
    title = escape_mrkdwn(release.title)
    if updates_posts:
        return f":pencil2: Release *#{release.id} {title}* changed; every posted message is being updated."
    if approval_reset:
        return (
            f":pencil2: Release *#{release.id} {title}* changed, so it needs approval again; "
            f"{user_mention(release.approver)} has been asked."
        )
    return f":pencil2: Release *#{release.id} {title}* saved."
