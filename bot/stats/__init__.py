"""Workspace statistics across domains: the `/stats` admin API (api)."""
