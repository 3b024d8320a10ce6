# leerbot: slim Python image, non-root, data in a volume, `leerbot run` by default.
# .ci/image-recipe replays this file's install steps without Docker (CI cannot pull images):
# keep the build stage to COPY and one `RUN pip install`, and the checks it reads
# (ENTRYPOINT with tini, USER, HEALTHCHECK with `leerbot health`, CMD) in the last stage.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE requirements.lock ./
COPY leerbot ./leerbot
COPY prompts ./prompts
COPY config ./config
RUN pip install --no-cache-dir --prefix=/install -c requirements.lock .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEERBOT_DATABASE_URL=sqlite+aiosqlite:////data/leerbot.db
# tini runs as process 1: it passes `docker stop`'s SIGTERM on to leerbot (which stops
# cleanly and exits 0 within a few seconds) and reaps child processes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 leerbot \
    && mkdir -p /data && chown leerbot:leerbot /data
USER leerbot
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# `leerbot health`: the database, the bot's last contact with Discord and its scheduler's
# last tick (it writes both every 10 s); exit 0 or 1 with the reason in one line.
HEALTHCHECK --interval=30s --timeout=20s --start-period=60s --retries=3 \
    CMD ["leerbot", "health"]
STOPSIGNAL SIGTERM
CMD ["leerbot", "run"]
