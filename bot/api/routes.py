"""All /api/v1 routers: each domain's api module, collected in one place."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.analytics import api as stats
from bot.api.auth import require_token
from bot.feedback import api as feedback
from bot.feedback import api_themes as themes
from bot.launches import api as launches
from bot.ownership import api as areas
from bot.releases import api as releases
from bot.scheduler import api as jobs

# Every /api/v1 route requires a bearer token; health, metrics and docs live outside this router.
api_router = APIRouter(dependencies=[Depends(require_token)])
api_router.include_router(areas.router)
api_router.include_router(areas.import_router)
api_router.include_router(jobs.router)
api_router.include_router(stats.router)
api_router.include_router(feedback.router)
api_router.include_router(themes.router)
api_router.include_router(launches.router)
api_router.include_router(releases.router)
