"""Path and query parameter checks shared by the routers: what the database cannot hold is a 422
before any query runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

from bot.core.schema_base import MAX_ID, as_utc, clean_text

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id, as listed.")]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# Appended to a query parameter's Annotated[...]: free text reaching a query, a time compared in UTC.
CleanText = AfterValidator(clean_text)
InUtc = AfterValidator(_utc)
