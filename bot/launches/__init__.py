"""Launch readiness: launches and their sign-off matrix, readiness, standups on a working-day calendar,
go/no-go votes, Slack channels (slack), validated shapes (schema), Block Kit views, the `/launches` api
and jobs."""
