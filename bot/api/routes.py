"""All /api/v1 routers."""

from __future__ import annotations

from fastapi import APIRouter

api_router = APIRouter()
