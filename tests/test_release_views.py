"""The release message and its pieces, as pure functions of data."""

from __future__ import annotations

import json

from bot.releases.releases import ReleaseCopy
from bot.releases.views.ids import ReleaseId
from bot.releases.views.message import notes_mrkdwn, release_message
from tests.helpers import rendered


def copy(**overrides: object) -> ReleaseCopy:
    values: dict[str, object] = {
        "release_id": 7,
        "locale": "en",
        "title": "Bulk export",
        "version": "2.4",
        "summary": "Export any report.",
        "notes": "",
        "launch_name": None,
        "themes": (),
        "revision": 1,
    }
    values.update(overrides)
    return ReleaseCopy(**values)  # type: ignore[arg-type]


def test_markdown_notes_become_slack_mrkdwn() -> None:
    text = notes_mrkdwn(
        "# New\n**bold**, *italic*, ~~gone~~\n- one\n- two\n[Docs](https://x.example/d?a=1&b=2)"
    )
    assert "*New*" in text and "*bold*" in text and "_italic_" in text and "~gone~" in text
    assert "• one" in text and "<https://x.example/d?a=1&amp;b=2|Docs>" in text


def test_notes_cannot_ping_anyone() -> None:
    text = notes_mrkdwn("Hey <!channel> and <!here|here> and @everyone, <@U0BOB> and <!subteam^S123|@team>")
    assert "<!channel>" not in text and "<!here" not in text and "<!subteam" not in text
    assert "<@U0BOB>" not in text and "@everyone" not in text
    # Blockquotes and autolinks survive the escaping.
    quoted = notes_mrkdwn("> a quote with <b>html</b>\n<https://example.com/x>")
    assert (
        quoted.startswith(">")
        and "&lt;b&gt;" in quoted
        and "<https://example.com/x|https://example.com/x>" in quoted
    )


def test_user_text_in_title_and_summary_is_escaped() -> None:
    text, blocks = release_message(copy(title="Ping <!channel>", summary="@here look"))
    assert "<!channel>" not in text and "@here" not in text
    shown = rendered(blocks)
    assert "<!channel>" not in shown and "@here " not in shown


def test_long_notes_are_split_into_sections_within_slack_limits() -> None:
    notes = "\n".join(f"- item {i} " + "x" * 90 for i in range(400))
    _text, blocks = release_message(copy(notes=notes))
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(blocks) <= 50 and len(sections) > 5
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)


def test_footer_names_the_launch_and_themes_in_the_readers_language() -> None:
    _text, blocks = release_message(copy(locale="fr", launch_name="Q4", themes=("Bulk export", "SSO")))
    footer = rendered(blocks[-1:])
    assert "Fait partie de *Q4*" in footer and "*Bulk export*, *SSO*" in footer
    _text, blocks = release_message(copy(locale="pt-BR", launch_name="Q4"))
    assert "Parte de *Q4*" in rendered(blocks[-1:])
    _text, blocks = release_message(copy(locale="xx", launch_name="Q4"))
    assert "Part of *Q4*" in rendered(blocks[-1:])


def test_block_ids_are_unique() -> None:
    values = [member.value for member in ReleaseId]
    assert len(values) == len(set(values))
    assert json.dumps(values)
