"""Job handlers and planners of every feature; importing registers them."""

from bot.jobs import maintenance, ownership

__all__ = ["maintenance", "ownership"]
