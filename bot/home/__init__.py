"""The App Home tab: its Block Kit (views)."""
