"""Launch readiness: launches (launches) and their sign-off functions (functions), readiness,
standups on a working-day calendar (standups: runs; answers: DMs and answers; summaries: reminders
and the cut-off summary), go/no-go votes, Slack channels (slack), validated shapes (schema), Block Kit
views, the `/launches` api and jobs."""
