"""All /api/v1 routers."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.api import area_import, areas, feedback, jobs, launches, releases, stats, themes
from bot.api.auth import require_token

# Every /api/v1 route requires a bearer token; health, metrics and docs live outside this router.
api_router = APIRouter(dependencies=[Depends(require_token)])
api_router.include_router(areas.router)
api_router.include_router(area_import.router)
api_router.include_router(jobs.router)
api_router.include_router(stats.router)
api_router.include_router(feedback.router)
api_router.include_router(themes.router)
api_router.include_router(launches.router)
api_router.include_router(releases.router)
