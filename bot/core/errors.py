"""Errors a user can act on; their message is shown as is."""


class UserError(Exception):
    """Bad input from a Slack user or an API client: say what went wrong and what to do next."""


class NotFound(UserError):
    """The thing asked for does not exist."""


class Conflict(UserError):
    """The change clashes with what is stored (a duplicate slug, a closed release)."""
