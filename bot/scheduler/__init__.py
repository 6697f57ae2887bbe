"""Scheduled work kept in the database: jobs and their locks, the registry of handlers and planners, the
features whose jobs it runs, the runner and its APScheduler service, maintenance, and the `/jobs` api."""
