"""Job handlers and planners of every feature; importing registers them."""

from bot.jobs import feedback, launches, maintenance, ownership, releases

__all__ = ["feedback", "launches", "maintenance", "ownership", "releases"]
