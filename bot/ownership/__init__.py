"""Ownership directory, who owns what: areas and their search index, validated shapes (schema), file
importers and sync, "Still yours?" confirmation, owners' Slack accounts, what is announced in
OWNERSHIP_CHANNEL, stats, Block Kit views, the `/areas` api and jobs."""
