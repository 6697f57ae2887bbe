"""The domain modules whose job handlers and planners the scheduler runs.

Importing one registers its `@job_handler`s and `@planner`s in bot.scheduler.registry. Planners run
each tick in registration order, which is the order of FEATURE_JOB_MODULES; a new domain with
scheduled work adds its jobs module here.
"""

from __future__ import annotations

import importlib

FEATURE_JOB_MODULES = (
    "bot.feedback.jobs",
    "bot.launches.jobs",
    "bot.scheduler.maintenance",
    "bot.ownership.jobs",
    "bot.releases.jobs",
    "bot.integrations.jobs",
)


def load_features() -> None:
    """Import every feature's jobs module (again is a no-op)."""
    for name in FEATURE_JOB_MODULES:
        importlib.import_module(name)
