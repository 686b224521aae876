# Rapport in a container: `docker build -t rapport .`, then see compose.yaml and docs/operations.md.
# tests/deploy/ checks this file (and builds it when a container engine answers).
ARG PYTHON_IMAGE=python:3.11-slim

# Stage 1: build the wheel from the sources; nothing of this stage reaches the final image.
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rapport ./rapport
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the wheel and its dependencies, run as an unprivileged user.
FROM ${PYTHON_IMAGE}
# RAPPORT_EXTRAS=report adds matplotlib for the charts of `rapport report` (about 165 MB).
ARG RAPPORT_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RAPPORT_HOST=0.0.0.0 \
    RAPPORT_PORT=3000 \
    RAPPORT_METRICS_PORT=3001
COPY --from=build /wheels /wheels
RUN set -eu; \
    wheel="$(ls /wheels/rapport-*.whl)"; \
    python -m pip install "${wheel}${RAPPORT_EXTRAS:+[$RAPPORT_EXTRAS]}"; \
    rm -rf /wheels; \
    useradd --system --user-group --uid 10001 --create-home --home-dir /home/rapport rapport; \
    install -d -o rapport -g rapport /data
USER rapport
# The default SQLite file (./rapport.db) lands here; mount a volume on /data to keep it.
WORKDIR /data
EXPOSE 3000
# No curl in a slim image: the Python that runs Rapport asks /healthz itself, on the operator
# port (RAPPORT_METRICS_PORT, set above), which `serve` and `worker` both answer: one check fits
# every role (rapport/bot/service/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "rapport.bot.service.healthcheck"]
ENTRYPOINT ["rapport"]
CMD ["serve", "--no-console"]
