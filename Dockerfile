# leerbot: slim Python image, non-root, data in a volume, `leerbot run` by default.
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
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 leerbot \
    && mkdir -p /data && chown leerbot:leerbot /data
USER leerbot
WORKDIR /data
VOLUME ["/data"]
CMD ["leerbot", "run"]
