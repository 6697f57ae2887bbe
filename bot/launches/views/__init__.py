"""Block Kit for launches: the sign-off matrix and lists (matrix), go/no-go (gonogo), modals, and the
owner's standup DM (standup)."""
