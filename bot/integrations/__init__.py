"""Where work is tracked: GitHub, Linear and Jira links on themes and the webhooks that move them."""
