"""Block Kit for feedback: capturing it (capture), themes and ship notices (themes), the digest,
critical alerts and App Home (digest); ids, labels and quoting shared by all (common)."""
