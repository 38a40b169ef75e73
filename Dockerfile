# gosim in a container: gunicorn with uvicorn workers, non-root, SQLite state in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GOSIM_STORAGE=sqlite:////var/lib/gosim/state.db \
    GOSIM_PORT=8380

RUN useradd --create-home --uid 10001 gosim && mkdir -p /var/lib/gosim && chown gosim /var/lib/gosim
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY simulator ./simulator
COPY openapi ./openapi
COPY fixtures ./fixtures
# The wheel carries openapi/ and fixtures/ inside the simulator package (setup.py), so the sources can go.
RUN pip install --no-cache-dir . && cd / && rm -rf /app/simulator /app/openapi /app/fixtures /app/build

USER gosim
VOLUME ["/var/lib/gosim"]
EXPOSE 8380
# Binding beyond loopback requires GOSIM_ADMIN_TOKEN; pass it with -e (the server refuses to start without it).
ENV GOSIM_HOST=0.0.0.0
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"GOSIM_PORT\",\"8380\")}/_sim/health', timeout=2)"
CMD ["gosim", "serve"]
