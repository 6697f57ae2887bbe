"""The `switchboard` command line: run, scheduler, migrate, manifest, demo (app), `owners` import/export
(owners) and `tokens` (tokens)."""
