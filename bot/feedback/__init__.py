"""Customer voice: feedback capture and queries, themes and similarity, the weekly digest, validated
shapes (schema), Block Kit views, the `/feedback` and `/themes` apis and jobs."""
