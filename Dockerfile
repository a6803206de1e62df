# syntax=docker/dockerfile:1
# One Dockerfile, one small image per agentbus service:
#   docker build --build-arg SERVICE=guardrail    -t agentbus/guardrail .
#   docker build --build-arg SERVICE=orchestrator -t agentbus/orchestrator .
#   docker build --build-arg SERVICE=writer       -t agentbus/writer .      (any services/agents/<name>)
#   docker build --build-arg SERVICE=topology     -t agentbus/topology .    (`agentbus topology apply`)
# scripts/build_images.sh builds them all. Any image also runs another service by command, e.g.
#   docker run agentbus/guardrail python -m services.agents.writer
# Secrets never enter the image: broker passwords and LLM keys come from the environment at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: install the project into a virtualenv (wheels only), then compile the scanner ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
# README.md* : the file is optional for the build (pyproject names it as the long description).
COPY pyproject.toml README.md* ./
COPY shared/ shared/
COPY services/ services/
# --only-binary: every dependency ships manylinux wheels; refusing sdists keeps compilers out for good.
RUN /opt/venv/bin/pip install --only-binary=:all: --no-compile .
# The guardrail scanner compiled to C with mypyc (~1.4x its throughput; services/guardrail/README.md).
# gcc and mypy stay in this stage, in a virtualenv of their own; the build is copied next to the
# installed sources, which it matches byte for byte (the package checks a digest before loading it).
COPY scripts/compile_scanner.py scripts/
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/compile \
    && /opt/compile/bin/pip install --only-binary=:all: ".[compile]" \
    && /opt/compile/bin/python scripts/compile_scanner.py \
    && cp -r services/guardrail/scanning/_compiled \
         "$(/opt/venv/bin/python -I -c 'import services.guardrail.scanning as s; print(s.__path__[-1])')/" \
    && /opt/venv/bin/python -I -c "from services.guardrail.scanning import BUILD; import sys; \
         sys.exit(0 if BUILD.compiled else 'scanner not compiled: ' + BUILD.describe())"
RUN /opt/venv/bin/pip uninstall -y pip \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib
# The agents' prompts and the saga definitions are package data: fail here if pyproject.toml drops any.
# (-I: import the installed package, not ./services.)
RUN /opt/venv/bin/python -I - <<'PY'
import sys
from pathlib import Path
import services
installed = Path(services.__file__).parent
wanted = [*Path("services").glob("agents/*/prompts/*.txt"), *Path("services").glob("orchestrator/sagas/*.yaml")]
missing = [str(p) for p in wanted if not (installed / p.relative_to("services")).is_file()]
if missing or not wanted:
    sys.exit(f"data files missing from the installed package (see package-data in pyproject.toml): {missing}")
PY

# ---- runtime: the virtualenv and nothing else from the build ----
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE=guardrail
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="agentbus-${SERVICE}" \
      org.opencontainers.image.description="agentbus ${SERVICE}: LLM agents as microservices on RabbitMQ" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AGENTBUS_SERVICE=${SERVICE} \
    AGENTBUS_HEALTH_PORT=8080
# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without /etc/passwd lookups.
RUN groupadd --system --gid 10001 agentbus \
    && useradd --system --uid 10001 --gid agentbus --home-dir /app --shell /usr/sbin/nologin agentbus \
    && install -d -o agentbus -g agentbus -m 0750 /app /app/.agentbus
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
# Fail the build now, not at deploy time, when SERVICE names nothing this image can run.
RUN python -I - <<'PY'
import importlib.util, os, sys
service = os.environ["AGENTBUS_SERVICE"]
module = {"guardrail": "services.guardrail.__main__", "orchestrator": "services.orchestrator.__main__",
          "topology": "agentbus.cli.topology_cmd"}.get(service, f"services.agents.{service}.__main__")
try:
    found = importlib.util.find_spec(module) is not None
except ModuleNotFoundError:
    found = False
if not found:
    sys.exit(f"SERVICE={service}: the image has no {module}; use guardrail, orchestrator, topology "
             "or the name of a package under services/agents/")
PY
EXPOSE 8080
STOPSIGNAL SIGTERM
# urllib, not curl: the slim base has no curl. Port 0 means the endpoints are off: nothing to check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request as r; p=os.environ.get('AGENTBUS_HEALTH_PORT') or '8080'; p=='0' and sys.exit(0); r.urlopen('http://127.0.0.1:%s/healthz' % p, timeout=4).close()"]
# exec: the service is PID 1 and receives SIGTERM itself (it drains in-flight work, then exits).
CMD ["/bin/sh", "-c", "case \"$AGENTBUS_SERVICE\" in guardrail|orchestrator) exec python -m \"services.$AGENTBUS_SERVICE\" ;; topology) exec agentbus topology apply ;; *) exec python -m \"services.agents.$AGENTBUS_SERVICE\" ;; esac"]
