"""Pieces the launch services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, for ON CONFLICT clauses (both backends spell them alike)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
