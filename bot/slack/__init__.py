"""Slack itself: the Bolt app (app), the Web API client (client), multi-workspace install (oauth), the app
manifest (manifest), and Block Kit pieces every domain's views share (blocks)."""
