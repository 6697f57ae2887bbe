"""Similar-theme suggestions at capture, and critical feedback routed to the area owner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback.similarity import normalize, similarity
from bot.feedback.views.common import FeedbackId
from tests.helpers import rendered
from tests.test_feedback_helpers import (
    add_areas,
    feedback_rows,
    modal_values,
    open_shortcut_modal,
    react,
    submit_modal,
)


@pytest.fixture
async def directory(runtime: Runtime) -> None:
    await add_areas(runtime)


async def make_theme(api: Any, title: str, description: str = "") -> int:
    response = await api.post("/api/v1/themes", json={"title": title, "description": description})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def log_via_api(
    api: Any, text: str, *, theme_id: int | None = None, customer: str | None = None
) -> int:
    body: dict[str, Any] = {"text": text, "customer": customer}
    if theme_id:
        body["theme_id"] = theme_id
    response = await api.post("/api/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_similarity_prefers_the_matching_theme() -> None:
    text = normalize("Customers keep asking to export all their reports to CSV in bulk")
    assert similarity(text, "Bulk export", "", []) >= 90
    assert similarity(text, "Dark mode", "Night theme for the app", []) < 50
    # A tersely named theme is still found through the feedback already linked to it.
    linked = ["We need to download every report as a CSV file at once"]
    assert similarity(normalize("download each report as CSV"), "Reporting v2", "", linked) >= 62


async def test_similar_open_theme_is_suggested_in_the_modal_and_linked_when_ticked(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: Any
) -> None:
    export = await make_theme(api, "Bulk export", "Export many reports at once")
    await make_theme(api, "Dark mode")
    for customer in ("Acme", "Globex", "acme"):
        await log_via_api(api, f"{customer} wants bulk export", theme_id=export, customer=customer)

    message = emulator.add_message("C0GENERAL", "U0BOB", "Initech asks to export all reports in bulk as CSV")
    view = await open_shortcut_modal(slack, emulator, message, user="U0ALICE", channel="C0GENERAL")
    suggest = next(b for b in view["blocks"] if b.get("block_id") == FeedbackId.SUGGEST_BLOCK)
    options = suggest["element"]["options"]
    assert [o["value"] for o in options] == [str(export)]
    assert options[0]["text"]["text"] == "Bulk export (2 customers)"

    await submit_modal(
        slack, view, modal_values(text=message["text"], suggested=str(export)), user="U0ALICE", view_id="V1"
    )
    await emulator.wait_for("chat.postEphemeral")
    item = (await feedback_rows(runtime))[-1]
    assert item.theme_id == export and item.status == "triaged"
    theme = (await api.get(f"/api/v1/themes/{export}")).json()
    assert (theme["items"], theme["customers"]) == (4, 2)


async def test_reaction_confirmation_suggests_a_theme_and_link_it_links(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: Any
) -> None:
    export = await make_theme(api, "Bulk export")
    await log_via_api(api, "Bulk export for Acme", theme_id=export, customer="Acme")
    message = emulator.add_message("C0GENERAL", "U0BOB", "Can we export everything in bulk?")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"])

    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    assert "Looks like *Bulk export* (1 customer) — link it?" in rendered(confirmation["blocks"])
    item = (await feedback_rows(runtime))[-1]
    button = next(
        e
        for b in confirmation["blocks"]
        if b["type"] == "section" and "accessory" in b
        for e in [b["accessory"]]
    )
    assert button["value"] == f"{item.id}:{export}"

    await slack.block_action(button["action_id"], button["value"], user="U0ALICE")
    [reply] = await emulator.wait_for("response_url")
    assert reply["replace_original"] is True
    assert "linked to *Bulk export*" in rendered(reply["blocks"])
    assert (await feedback_rows(runtime))[-1].theme_id == export


async def test_new_theme_from_the_confirmation_creates_and_links_it(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    message = emulator.add_message("C0GENERAL", "U0BOB", "Offline mode for the mobile app")
    await react(slack, user="U0ALICE", channel="C0GENERAL", ts=message["ts"])
    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    item = (await feedback_rows(runtime))[-1]
    assert FeedbackId.NEW_THEME in json.dumps(confirmation["blocks"])

    await slack.block_action(FeedbackId.NEW_THEME, str(item.id), user="U0ALICE")
    [opened] = await emulator.wait_for("views.open")
    assert opened["view"]["callback_id"] == FeedbackId.THEME_MODAL
    values = {
        FeedbackId.THEME_TITLE_BLOCK: {
            FeedbackId.THEME_TITLE: {"type": "plain_text_input", "value": "Offline"}
        },
        FeedbackId.THEME_DESCRIPTION_BLOCK: {
            FeedbackId.THEME_DESCRIPTION: {"type": "plain_text_input", "value": "Work without a network"}
        },
    }
    for _ in range(2):  # a double click saves once
        response = await slack.view_submission(
            FeedbackId.THEME_MODAL,
            values,
            user="U0ALICE",
            private_metadata=opened["view"]["private_metadata"],
            view_id="VT1",
        )
        assert response.status_code == 200
    await emulator.wait_for("chat.postEphemeral", 2)
    linked = (await feedback_rows(runtime))[-1]
    assert linked.theme_id is not None


async def test_new_theme_typed_in_the_theme_select_is_created_once(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, api: Any
) -> None:
    for n, text in enumerate(("Audit log export", "Export the audit log please")):
        await slack.command("/feedback", text)
        opened = (await emulator.wait_for("views.open", n + 1))[-1]
        await submit_modal(
            slack,
            opened["view"],
            modal_values(text=text, theme="new:Audit log"),
            user="U0ALICE",
            view_id=f"V{n}",
        )
        await emulator.wait_for("chat.postEphemeral", n + 1)
    themes = (await api.get("/api/v1/themes")).json()["items"]
    assert [(t["title"], t["items"]) for t in themes] == [("Audit log", 2)]


async def test_critical_feedback_dms_the_area_owner_once_and_alerts_the_feedback_channel(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any, directory: None, api: Any
) -> None:
    message = emulator.add_message("C0GENERAL", "U0DAVE", "Acme cannot pay any invoice since this morning")
    view = await open_shortcut_modal(slack, emulator, message, user="U0ALICE", channel="C0GENERAL")
    await submit_modal(
        slack,
        view,
        modal_values(text=message["text"], importance="critical", area="billing", customer="Acme"),
        user="U0ALICE",
        view_id="V1",
    )
    await emulator.wait_for("chat.postEphemeral")
    await run_jobs()

    owner_dm = emulator.calls_to("chat.postMessage", channel="U0BOB")
    assert len(owner_dm) == 1
    shown = rendered(owner_dm[0]["blocks"])
    assert "Critical feedback in *Billing*" in shown and "Acme cannot pay" in shown
    assert "<@U0DAVE>" in shown and "archives/C0GENERAL" in shown
    assert len(emulator.calls_to("chat.postMessage", channel="C0FEEDBACK")) == 1

    # Editing it again (still critical) and retried jobs never alert twice.
    item = (await feedback_rows(runtime))[-1]
    patched = await api.patch(
        f"/api/v1/feedback/{item.id}", json={"customer": "Acme Corp", "importance": "critical"}
    )
    assert patched.status_code == 200
    await run_jobs()
    assert len(emulator.calls_to("chat.postMessage", channel="U0BOB")) == 1


async def test_feedback_becoming_critical_later_alerts_the_owner(
    emulator: SlackEmulator, run_jobs: Any, directory: None, api: Any
) -> None:
    created = await api.post("/api/v1/feedback", json={"text": "Search is down for EU", "area": "search"})
    await run_jobs()
    assert not emulator.calls_to("chat.postMessage", channel="U0DAVE")
    await api.patch(f"/api/v1/feedback/{created.json()['id']}", json={"importance": "critical"})
    await run_jobs()
    assert len(emulator.calls_to("chat.postMessage", channel="U0DAVE")) == 1
