"""Admin HTTP API under /api/v1: what every domain's router shares (auth, deps, errors, pagination, the
common schemas) and routes, which collects the domain routers."""
