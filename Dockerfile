# Switchboard: `switchboard run` (web + scheduler) by default; see docker-compose.yml for a
# deployment with PostgreSQL, a migrate step, web replicas and a separate scheduler.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/switchboard
# Dependencies first, exactly as locked, so that code changes reuse this layer.
COPY requirements/app.txt ./requirements/app.txt
RUN /opt/switchboard/bin/pip install -r requirements/app.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY migrations ./migrations
RUN /opt/switchboard/bin/pip install --no-deps .

FROM python:3.11-slim
ENV PATH=/opt/switchboard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin switchboard \
 && mkdir /data && chown switchboard:switchboard /data
COPY --from=build /opt/switchboard /opt/switchboard
USER switchboard
# The SQLite default (./switchboard.db) lands in /data; mount a volume there to keep it.
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["switchboard", "run"]
