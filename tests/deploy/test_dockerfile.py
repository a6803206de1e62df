"""The Dockerfile, checked without a container engine: its structure, and its shell and Python
snippets (healthcheck, service dispatch, build-time service check) run for real outside a container."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import sys
import zipfile
from pathlib import Path

import pytest

from agentbus.observability import health_server
from agentbus.topology import REFERENCE_AGENTS
from tests.deploy.support import ROOT, run

DOCKERFILE = ROOT / "Dockerfile"

Instruction = tuple[str, str]  # (KEYWORD, arguments, heredoc bodies appended)


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions with continuation lines joined and heredoc bodies attached."""
    out: list[Instruction] = []
    lines = iter(text.splitlines())
    for first in lines:
        if not first.strip() or first.lstrip().startswith("#"):
            continue
        line = first
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        keyword, _, args = line.strip().partition(" ")
        heredoc = re.search(r"<<-?'?(\w+)'?", args)
        if heredoc:
            body = []
            for inner in lines:
                if inner == heredoc.group(1):
                    break
                body.append(inner)
            args += "\n" + "\n".join(body)
        out.append((keyword.upper(), args))
    return out


def stages(text: str) -> dict[str, list[Instruction]]:
    result: dict[str, list[Instruction]] = {}
    current = None
    for keyword, args in instructions(text):
        if keyword == "FROM":
            current = args.split()[-1]
            result[current] = []
        elif current is not None:
            result[current].append((keyword, args))
    return result


@pytest.fixture(scope="module")
def text() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def runtime(text: str) -> list[Instruction]:
    return stages(text)["runtime"]


def json_args(stage: list[Instruction], keyword: str) -> list[str]:
    (args,) = [a for k, a in stage if k == keyword]
    if keyword == "HEALTHCHECK":
        args = args[args.index("CMD") + 3:].strip()
    parsed: list[str] = json.loads(args)
    return parsed


def test_multi_stage_on_slim_python_311(text: str) -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert list(stages(text)) == ["build", "runtime"]
    assert "FROM ${PYTHON_IMAGE} AS runtime" in text


def test_runtime_takes_only_the_virtualenv_from_the_build(runtime: list[Instruction]) -> None:
    copies = [a for k, a in runtime if k == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]


def test_no_build_tools_or_secrets_in_the_runtime(text: str, runtime: list[Instruction]) -> None:
    body = "\n".join(args for _, args in runtime)  # comments aside
    assert not re.search(r"apt-get|apk add|gcc|build-essential|curl|wget|mypy", body)
    for keyword, args in instructions(text):
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)\s*=", args, re.I), args
    # Wheels only, everywhere: gcc is in the build stage for the scanner alone, never for an sdist.
    installs = re.findall(r"pip install[^&]*", text)
    assert installs
    assert all("--only-binary=:all:" in install for install in installs), installs


def test_the_build_stage_compiles_the_scanner_and_fails_without_it(text: str) -> None:
    build = "\n".join(args for _, args in stages(text)["build"])
    assert "scripts/compile_scanner.py" in build
    assert "_compiled" in build
    # The image refuses to build when the installed scanner would run interpreted.
    assert "BUILD.compiled" in build


def test_runs_as_a_numeric_non_root_user(runtime: list[Instruction]) -> None:
    users = [a for k, a in runtime if k == "USER"]
    assert users == ["10001:10001"]
    # Every command after USER runs unprivileged: nothing may switch back.
    index = runtime.index(("USER", "10001:10001"))
    assert all(k != "USER" for k, _ in runtime[index + 1:])


def test_copied_sources_exist(text: str) -> None:
    build = stages(text)["build"]
    for keyword, args in build:
        if keyword == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                if "*" not in source:
                    assert (ROOT / source).exists(), source


def test_dockerignore_is_an_allowlist_keeping_secrets_out() -> None:
    rules = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert rules[0] == "*"
    allowed = {r for r in rules if r.startswith("!")}
    assert allowed == {"!pyproject.toml", "!README.md", "!shared/", "!services/",
                       "!scripts/compile_scanner.py"}
    for secret in ("**/.agentbus", "**/.env*", "**/*.env", "**/_compiled"):
        assert secret in rules


async def healthcheck(cmd: list[str], port: str) -> int:
    env = {**os.environ, "AGENTBUS_HEALTH_PORT": port, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), timeout=20)


async def test_healthcheck_asks_healthz_on_the_health_port(runtime: list[Instruction]) -> None:
    cmd = json_args(runtime, "HEALTHCHECK")
    assert cmd[0] == "python"
    assert "urllib" in cmd[2]
    with socket.socket() as probe:  # a free port (health_server treats 0 as "off")
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    async with health_server(free, ready=lambda: False, host="127.0.0.1") as port:
        assert port == free
        # /healthz answers 200 even while not ready: liveness, not readiness.
        assert await healthcheck(cmd, str(port)) == 0
    # Nothing listens there any more: unhealthy.
    assert await healthcheck(cmd, str(port)) == 1
    # Port 0 turns the endpoints off: nothing to check, so healthy.
    assert await healthcheck(cmd, "0") == 0


async def test_healthcheck_fails_on_an_error_status(runtime: list[Instruction]) -> None:
    async def answer_500(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_500, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await healthcheck(json_args(runtime, "HEALTHCHECK"), str(port)) == 1
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(("service", "expected"), [
    ("guardrail", "python -m services.guardrail"),
    ("orchestrator", "python -m services.orchestrator"),
    ("topology", "agentbus topology apply"),
    ("writer", "python -m services.agents.writer"),
    ("style_reviewer", "python -m services.agents.style_reviewer"),
])
def test_default_command_runs_the_service_chosen_at_build_time(
        runtime: list[Instruction], tmp_path: Path, service: str, expected: str) -> None:
    cmd = json_args(runtime, "CMD")
    for name in ("python", "agentbus"):
        stub = tmp_path / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*"\n')
        stub.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "AGENTBUS_SERVICE": service}
    assert run(cmd, env=env).stdout.strip() == expected
    envs = [a for k, a in runtime if k == "ENV"]
    assert any("AGENTBUS_SERVICE=${SERVICE}" in a for a in envs)


def build_time_check(runtime: list[Instruction]) -> str:
    (script,) = [a.split("\n", 1)[1] for k, a in runtime if k == "RUN" and "find_spec" in a]
    return script


@pytest.mark.parametrize("service", ["guardrail", "orchestrator", "topology", *REFERENCE_AGENTS])
def test_build_time_check_accepts_a_runnable_service(runtime: list[Instruction], service: str) -> None:
    run([sys.executable, "-I", "-c", build_time_check(runtime)],
        env={**os.environ, "AGENTBUS_SERVICE": service})


def test_build_time_check_refuses_an_unknown_service(runtime: list[Instruction]) -> None:
    proc = run([sys.executable, "-I", "-c", build_time_check(runtime)],
               env={**os.environ, "AGENTBUS_SERVICE": "no_such_agent"}, check=False)
    assert proc.returncode == 1
    assert "SERVICE=no_such_agent: the image has no services.agents.no_such_agent.__main__" in proc.stderr


def test_the_wheel_carries_prompts_and_saga_definitions(tmp_path: Path) -> None:
    # The image installs the project with `pip install .`; its data files must be in the wheel.
    # Build from a copy of what the Dockerfile copies, so no build/ directory lands in the work tree.
    source = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in ("shared", "services"):
        shutil.copytree(ROOT / part, source / part, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", tmp_path / "dist", source], timeout=120)
    (wheel,) = (tmp_path / "dist").glob("agentbus-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = [p.relative_to(ROOT).as_posix() for p in (
        *ROOT.glob("services/agents/*/prompts/*.txt"), *ROOT.glob("services/orchestrator/sagas/*.yaml"))]
    assert any(w.startswith("services/orchestrator/sagas/") for w in wanted)
    missing = [w for w in wanted if w not in names]
    assert not missing, f"not in the wheel (see package-data in pyproject.toml): {missing}"
    for agent in REFERENCE_AGENTS:
        if (ROOT / "services" / "agents" / agent / "__main__.py").exists():
            assert f"services/agents/{agent}/__main__.py" in names
