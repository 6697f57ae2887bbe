"""Shared foundations: settings, database and units of work, errors, text, metrics, the runtime, migrations,
and what every domain uses to reach Slack safely (schema_base, deliveries, posting, pacing) and api_tokens."""
