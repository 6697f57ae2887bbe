"""Where a theme is tracked, from Slack: the area owner's Decline theme / Keep open answer, the
theme modal's "Tracked in" field, `/feedback link`, and the links wherever a theme is shown."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback.digest import DigestData, DigestThemeLine
from bot.feedback.views.common import STATUS_LABELS, FeedbackId
from bot.feedback.views.digest import STATUS_LABELS as DIGEST_STATUS_LABELS
from bot.feedback.views.digest import digest
from bot.feedback.views.themes import ThemeModalMetadata
from bot.integrations.views import TrackerId
from models import Theme
from tests.helpers import rendered
from tests.integrations_payloads import github_issue
from tests.integrations_webhooks import (
    ISSUE_URLS,
    SECRETS,
    Tracked,
    Trackers,
    run_all,
    status_of,
    tracked_theme,
)
from tests.test_feedback_helpers import add_areas, count_rows


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(SECRETS)


@pytest.fixture
async def asked(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, http: httpx.AsyncClient, run_jobs: Any
) -> tuple[Tracked, dict[str, Any]]:
    """Bulk export (owned by Carol) tracked in acme/app#123, closed as not planned: Carol was asked."""
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    response = await Trackers(http).github("issues", github_issue("closed", state_reason="not_planned"))
    assert response.status_code == 202, response.text
    await run_all(run_jobs)
    [question] = emulator.messages["D0CAROL"]
    return theme, question


async def history(api: httpx.AsyncClient, theme_id: int) -> list[tuple[str, str | None, str | None, str]]:
    events = (await api.get(f"/api/v1/themes/{theme_id}/history")).json()
    return [(e["kind"], e["to_status"], e["actor"], e["reason"]) for e in events]


async def click(
    slack: SlackSender, action_id: str, theme_id: int, *, user: str, channel: str, message: dict[str, Any]
) -> None:
    response = await slack.block_action(
        action_id,
        str(theme_id),
        user=user,
        channel=channel,
        message=message,
        block_id=TrackerId.DECLINE_BLOCK,
    )
    assert response.status_code == 200


# ---- Decline theme / Keep open ---------------------------------------------------------------


async def test_the_area_owner_declines_the_theme_and_the_question_becomes_the_answer(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, asked: tuple[Tracked, dict[str, Any]]
) -> None:
    theme, question = asked

    await click(
        slack, TrackerId.DECLINE_THEME, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )

    [update] = await emulator.wait_for("chat.update")
    assert (update["channel"], update["ts"]) == ("D0CAROL", question["ts"])
    assert update["text"] == "Bulk export was declined"
    text = rendered(update["blocks"])
    assert "*Bulk export* was declined by <@U0CAROL> on <!date^" in text
    assert "acme/app#123 was closed as not planned." in text
    assert "Tracked in <https://github.com/acme/app/issues/123|acme/app#123>" in text
    assert all(b["type"] != "actions" for b in update["blocks"]), "no buttons left to click"
    assert emulator.messages["D0CAROL"][0]["text"] == "Bulk export was declined"
    assert await status_of(api, theme.theme_id) == "declined"
    declined = ("status", "declined", "U0CAROL", "declined: acme/app#123 closed as not planned")
    assert (await history(api, theme.theme_id))[-1] == declined
    events = (await api.get(f"/api/v1/themes/{theme.theme_id}/history")).json()
    assert events[-1]["at"], "when it was declined is recorded"

    # The same click again (a double click, or a stale copy of the message) changes nothing.
    await click(
        slack, TrackerId.DECLINE_THEME, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )
    updates = await emulator.wait_for("chat.update", 2)
    assert updates[1]["text"] == update["text"] and updates[1]["blocks"] == update["blocks"]
    assert [e for e in await history(api, theme.theme_id) if e[1] == "declined"] == [declined]


async def test_keep_open_records_the_decision_once_and_leaves_the_status(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, asked: tuple[Tracked, dict[str, Any]]
) -> None:
    theme, question = asked

    await click(
        slack, TrackerId.KEEP_OPEN, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )
    await click(
        slack, TrackerId.KEEP_OPEN, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )

    first, second = await emulator.wait_for("chat.update", 2)
    assert first["text"] == "Bulk export stays open"
    text = rendered(first["blocks"])
    assert "*Bulk export* stays open: <@U0CAROL> chose to keep it on <!date^" in text
    assert "acme/app#123 was closed as not planned." in text
    assert "/feedback link" in text
    assert second["blocks"] == first["blocks"], "the second click shows the same decision"
    assert await status_of(api, theme.theme_id) == "planned"
    kept = [e for e in await history(api, theme.theme_id) if e[0] == "kept_open"]
    assert kept == [("kept_open", None, "U0CAROL", "kept open: acme/app#123 closed as not planned")]

    # Deciding otherwise later still declines it.
    await click(
        slack, TrackerId.DECLINE_THEME, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )
    await emulator.wait_for("chat.update", 3)
    assert await status_of(api, theme.theme_id) == "declined"


async def test_someone_else_is_refused_by_name_and_nothing_changes(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, asked: tuple[Tracked, dict[str, Any]]
) -> None:
    theme, question = asked
    before = await history(api, theme.theme_id)

    for action in (TrackerId.DECLINE_THEME, TrackerId.KEEP_OPEN):
        await click(slack, action, theme.theme_id, user="U0BOB", channel="D0CAROL", message=question)

    refusals = await emulator.wait_for("response_url", 2)
    for refusal in refusals:
        assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
        assert (
            "Only <@U0CAROL> and a workspace admin can decline or keep open *Bulk export*"
            in (refusal["text"])
        )
        assert "Nothing was changed." in refusal["text"]
    assert emulator.calls_to("chat.update") == []
    assert await status_of(api, theme.theme_id) == "planned"
    assert await history(api, theme.theme_id) == before


async def test_a_slack_admin_may_answer_for_the_owner(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, asked: tuple[Tracked, dict[str, Any]]
) -> None:
    theme, question = asked
    emulator.users["U0DAVE"]["is_admin"] = True

    await click(
        slack, TrackerId.DECLINE_THEME, theme.theme_id, user="U0DAVE", channel="D0CAROL", message=question
    )

    [update] = await emulator.wait_for("chat.update")
    assert "declined by <@U0DAVE>" in rendered(update["blocks"])
    assert (await history(api, theme.theme_id))[-1][:3] == ("status", "declined", "U0DAVE")


async def test_a_theme_shipped_meanwhile_stays_shipped(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, asked: tuple[Tracked, dict[str, Any]]
) -> None:
    theme, question = asked
    shipped = await api.post(f"/api/v1/themes/{theme.theme_id}/ship", json={"release_title": "4.2"})
    assert shipped.status_code == 200, shipped.text

    await click(
        slack, TrackerId.DECLINE_THEME, theme.theme_id, user="U0CAROL", channel="D0CAROL", message=question
    )

    [update] = await emulator.wait_for("chat.update")
    assert update["text"] == "Bulk export has shipped already"
    assert await status_of(api, theme.theme_id) == "shipped"


# ---- the theme modal's "Tracked in" ----------------------------------------------------------


def theme_values(*, title: str, links: str | None, area: str | None = None) -> dict[str, Any]:
    """`view.state.values` as Slack sends them for the theme modal."""
    return {
        FeedbackId.THEME_TITLE_BLOCK: {FeedbackId.THEME_TITLE: {"type": "plain_text_input", "value": title}},
        FeedbackId.THEME_DESCRIPTION_BLOCK: {
            FeedbackId.THEME_DESCRIPTION: {"type": "plain_text_input", "value": None}
        },
        FeedbackId.THEME_AREA_BLOCK: {
            FeedbackId.AREA: {
                "type": "external_select",
                "selected_option": {"value": area, "text": {"type": "plain_text", "text": area}}
                if area
                else None,
            }
        },
        FeedbackId.THEME_LINKS_BLOCK: {FeedbackId.THEME_LINKS: {"type": "plain_text_input", "value": links}},
    }


async def themes(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await api.get("/api/v1/themes")).json()["items"])


async def test_a_new_theme_is_tracked_in_the_issues_typed_into_tracked_in(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await add_areas(runtime)
    links = f"{ISSUE_URLS['github']}\n{ISSUE_URLS['linear']}, {ISSUE_URLS['jira']}\n\n{ISSUE_URLS['github']}"

    response = await slack.view_submission(
        FeedbackId.THEME_MODAL,
        theme_values(title="Bulk export", links=links, area="bulk-export"),
        private_metadata=ThemeModalMetadata(origin_channel="C0GENERAL").model_dump_json(),
    )

    assert response.status_code == 200 and not response.content
    [theme] = await themes(api)
    assert theme["status"] == "planned"
    assert [link["key"] for link in theme["links"]] == ["acme/app#123", "ENG-123", "PROJ-123"]
    [told] = await emulator.wait_for("chat.postEphemeral")
    assert told["text"] == "Theme created"
    text = rendered(json.loads(told["blocks"]) if isinstance(told["blocks"], str) else told["blocks"])
    assert "Created theme *Bulk export* — planned" in text
    assert (
        "Tracked in <https://github.com/acme/app/issues/123|acme/app#123>, "
        "<https://linear.app/acme/issue/ENG-123|ENG-123>, <https://acme.atlassian.net/browse/PROJ-123|PROJ-123>"
    ) in text


@pytest.mark.parametrize(
    "links",
    ["https://example.com/acme/app/issues/1", "https://github.com/acme/app/issues/1, not a link", "<>|\x00"],
)
async def test_a_bad_url_is_an_error_on_tracked_in_and_nothing_is_saved(
    links: str, api: httpx.AsyncClient, slack: SlackSender, runtime: Runtime
) -> None:
    response = await slack.view_submission(
        FeedbackId.THEME_MODAL, theme_values(title="Bulk export", links=links)
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [FeedbackId.THEME_LINKS_BLOCK]
    assert "GitHub issue or pull request" in answer["errors"][FeedbackId.THEME_LINKS_BLOCK]
    assert await themes(api) == []
    assert await count_rows(runtime, Theme) == 0


async def test_edit_theme_shows_its_links_and_saving_replaces_them(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    linked = await slack.command("/feedback", f"link {theme.theme_id} {ISSUE_URLS['jira']}", user="U0ALICE")
    [edit] = [
        b["accessory"]
        for b in linked.json()["blocks"]
        if b.get("accessory", {}).get("action_id") == "feedback_edit_theme"
    ]

    await slack.block_action(FeedbackId.EDIT_THEME, edit["value"], user="U0ALICE")
    [opened] = await emulator.wait_for("views.open")
    view = opened["view"]
    assert view["title"]["text"] == "Edit theme" and view["submit"]["text"] == "Save"
    [field] = [b for b in view["blocks"] if b["block_id"] == FeedbackId.THEME_LINKS_BLOCK]
    assert field["label"]["text"] == "Tracked in"
    assert (
        field["element"]["initial_value"]
        == f"{ISSUE_URLS['github']}\nhttps://acme.atlassian.net/browse/PROJ-123"
    )
    [area] = [b for b in view["blocks"] if b["block_id"] == FeedbackId.THEME_AREA_BLOCK]
    assert area["element"]["initial_option"]["value"] == "bulk-export"

    response = await slack.view_submission(
        FeedbackId.THEME_MODAL,
        theme_values(title="Bulk export to CSV", links=ISSUE_URLS["linear"], area="bulk-export"),
        private_metadata=view["private_metadata"],
        user="U0ALICE",
        view_id="V0EDIT",
    )

    assert response.status_code == 200 and not response.content
    stored = (await api.get(f"/api/v1/themes/{theme.theme_id}")).json()
    assert stored["title"] == "Bulk export to CSV"
    assert [link["key"] for link in stored["links"]] == ["ENG-123"]
    changes = [(e[0], e[2], e[3]) for e in await history(api, theme.theme_id) if e[0] != "status"]
    assert changes[-3:] == [
        ("unlinked", "U0ALICE", "acme/app#123"),
        ("unlinked", "U0ALICE", "PROJ-123"),
        ("linked", "U0ALICE", "ENG-123"),
    ]
    told = (await emulator.wait_for("chat.postEphemeral"))[-1]
    assert told["text"] == "Theme saved"
    assert "Saved theme *Bulk export to CSV*" in rendered(told["blocks"])


# ---- /feedback link --------------------------------------------------------------------------


async def feedback_command(slack: SlackSender, text: str) -> dict[str, Any]:
    response = await slack.command("/feedback", text, user="U0ALICE")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    assert answer["response_type"] == "ephemeral"
    return answer


async def test_feedback_link_by_id_or_title_tracks_the_theme_and_a_second_time_says_so(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await add_areas(runtime)
    made = await api.post("/api/v1/themes", json={"title": "Bulk export", "area": "bulk-export"})
    theme_id = made.json()["id"]

    by_id = await feedback_command(slack, f"link #{theme_id} <{ISSUE_URLS['github']}>")
    assert by_id["text"] == "Bulk export is now tracked in acme/app#123"
    text = rendered(by_id["blocks"])
    assert "*Bulk export* is now tracked in acme/app#123." in text
    assert (
        "*Bulk export* — planned · Tracked in <https://github.com/acme/app/issues/123|acme/app#123>" in text
    )

    by_title = await feedback_command(slack, f"link bulk EXPORT {ISSUE_URLS['linear']}")
    assert by_title["text"] == "Bulk export is now tracked in ENG-123"

    again = await feedback_command(slack, f"link {theme_id} github.com/acme/app/issues/123")
    assert again["text"] == "Bulk export was already tracked in acme/app#123"
    assert "nothing changed" in rendered(again["blocks"])
    stored = (await api.get(f"/api/v1/themes/{theme_id}")).json()
    assert [link["key"] for link in stored["links"]] == ["acme/app#123", "ENG-123"]
    assert [link["created_by"] for link in stored["links"]] == ["U0ALICE", "U0ALICE"]
    assert emulator.calls_to("views.open") == []


async def test_feedback_link_answers_clearly_when_the_theme_or_the_url_is_wrong(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator
) -> None:
    for title in ("Bulk export", "Bulk edit"):
        assert (await api.post("/api/v1/themes", json={"title": title})).status_code == 201

    unknown = await feedback_command(slack, f"link Dark <mode> {ISSUE_URLS['github']}")
    assert unknown["text"].startswith(":warning: No theme is called “Dark &lt;mode&gt;”.")
    assert "by its id or its title" in unknown["text"]
    missing = await feedback_command(slack, f"link 999 {ISSUE_URLS['github']}")
    assert missing["text"] == ":warning: No theme with id 999."
    several = await feedback_command(slack, f"link bulk {ISSUE_URLS['github']}")
    assert "“bulk” fits several themes (#1 Bulk export, #2 Bulk edit); name one by its id." in several["text"]
    bad = await feedback_command(slack, "link Bulk export https://example.com/issues/1")
    assert bad["text"].startswith(
        ":warning: That is not a tracker issue link. Paste the URL of a GitHub issue"
    )
    for answer in (unknown, missing, several, bad):
        assert "blocks" not in answer or not answer["blocks"]
    assert all(theme["links"] == [] for theme in await themes(api))


@pytest.mark.parametrize("text", ["link", "link help", "LINK ?"])
async def test_feedback_link_alone_explains_itself(
    text: str, slack: SlackSender, emulator: SlackEmulator
) -> None:
    answer = await feedback_command(slack, text)

    assert answer["text"].startswith(
        "*/feedback link <theme> <url>* tracks a theme in a GitHub, Linear or Jira"
    )
    assert "/feedback link Bulk export https://github.com/acme/app/issues/123" in answer["text"]
    assert emulator.calls_to("views.open") == []


async def test_feedback_link_without_a_url_explains_and_feedback_about_links_opens_the_form(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    missing_theme = await feedback_command(slack, f"link {ISSUE_URLS['github']}")
    assert missing_theme["text"].startswith(":warning: Name the theme, then paste the issue's URL.")

    response = await slack.command("/feedback", "link previews are broken in threads", user="U0ALICE")
    assert response.status_code == 200
    [opened] = await emulator.wait_for("views.open")
    [text_block] = [b for b in opened["view"]["blocks"] if b["block_id"] == FeedbackId.TEXT_BLOCK]
    assert text_block["element"]["initial_value"] == "link previews are broken in threads"


async def test_feedback_help_mentions_the_link_sub_command(slack: SlackSender) -> None:
    answer = await feedback_command(slack, "help")
    assert "*/feedback link <theme> <url>*" in answer["text"]


# ---- links wherever a theme is shown ---------------------------------------------------------


async def test_app_home_shows_followed_themes_with_their_links_and_the_done_label(
    api: httpx.AsyncClient, slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    assert (await api.patch(f"/api/v1/themes/{theme.theme_id}", json={"status": "done"})).status_code == 200
    item = (await api.get("/api/v1/feedback")).json()["items"][0]
    await slack.block_action(FeedbackId.LINK_THEME, f"{item['id']}:{theme.theme_id}", user="U0ALICE")
    [linked] = await emulator.wait_for("response_url")
    assert "Tracked in <https://github.com/acme/app/issues/123|acme/app#123>" in rendered(linked["blocks"])

    await slack.event({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"})

    [published] = await emulator.wait_for("views.publish")
    text = rendered(published["view"]["blocks"])
    assert "• *Bulk export* — done, ships with the next release, 2 items, 2 customers" in text
    assert "· Tracked in <https://github.com/acme/app/issues/123|acme/app#123>" in text


def test_every_status_has_a_label_and_done_says_it_ships_with_the_next_release() -> None:
    from models.feedback import ThemeStatus

    assert DIGEST_STATUS_LABELS is STATUS_LABELS
    assert set(STATUS_LABELS) == set(ThemeStatus)
    assert STATUS_LABELS[ThemeStatus.DONE] == "done, ships with the next release"


def test_the_digest_shows_where_its_top_themes_are_tracked() -> None:
    data = DigestData(
        start_label="Jun 1",
        end_label="Jun 7",
        total=3,
        previous_total=1,
        by_area=[],
        by_kind=[],
        top_themes=[
            DigestThemeLine(
                title="Bulk <export>",
                new_customers=2,
                items=3,
                links=[
                    ("acme/app#123", ISSUE_URLS["github"]),
                    ("ENG-9", "https://linear.app/acme/issue/ENG-9"),
                ],
            ),
            DigestThemeLine(title="Dark mode", new_customers=1, items=1),
        ],
        critical=[],
        shipped=[],
    )

    _text, blocks = digest(data)

    text = rendered([block.to_dict() for block in blocks])
    assert (
        "1. *Bulk &lt;export&gt;* — 2 new customers, 3 new items · Tracked in "
        "<https://github.com/acme/app/issues/123|acme/app#123>, <https://linear.app/acme/issue/ENG-9|ENG-9>"
    ) in text
    assert "2. *Dark mode* — 1 new customer, 1 new item\n" in text + "\n"
