"""Block Kit for ownership: "who owns X" answers and the area modal (whoowns), keeping ownership fresh
(freshness)."""
