"""Ownership directory, who owns what: areas and their search index, validated shapes (schema), file
importers and sync, "Still yours?" confirmation, stats, Block Kit views, the `/areas` api and jobs."""
