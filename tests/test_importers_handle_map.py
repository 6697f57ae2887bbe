"""OWNERS_HANDLE_MAP lets the admin API (and the CLI by default) map owner handles to Slack users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.settings import SettingsError, load_settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"owners_handle_map": str(FIXTURES / "handles.yaml")}


async def test_api_import_maps_handles_through_the_configured_map(api: httpx.AsyncClient) -> None:
    response = await api.put(
        "/api/v1/areas:import?format=codeowners",
        content=(FIXTURES / "CODEOWNERS").read_bytes(),
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 200, response.text
    assert [o["handle"] for o in response.json()["unmapped_owners"]] == ["@acme/web"]
    billing = (await api.get("/api/v1/areas/apps-billing")).json()
    assert billing["owner"] == "U0ALICE"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("'@jane': not-a-user\n", "must map to a Slack user id"),
    ],
)
def test_unreadable_or_malformed_handle_map_fails_at_start_naming_the_variable(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "handles.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError) as raised:
        load_settings(owners_handle_map=str(path), _env_file=None)
    assert str(raised.value).startswith("OWNERS_HANDLE_MAP: ")
    assert message in str(raised.value)
