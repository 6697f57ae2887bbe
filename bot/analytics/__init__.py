"""Analytics: the figures behind `GET /api/v1/stats` and the charts drawn from them."""
