"""Release announcements: composing and approving them (compose), posting to every channel (posting),
validated shapes (schema), Block Kit views, the `/releases` api and jobs."""
