"""Fixtures for the deploy checks: the repo, the pinned tools, and renderers for compose, Helm and k8s/.

No container engine or cluster is involved: everything here renders or validates files with client
tools (docker-compose config, helm template, kubectl kustomize). A missing tool fails the test with
the command that installs it, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "agentbus"
HELM = ROOT / "tools" / "node_modules" / ".bin" / "helm"
KUBERNETES_VERSION = "1.34"
INSTALL_HINT = "run scripts/install_deploy_tools.sh"

Docs = list[dict[str, Any]]


def run(cmd: Sequence[str | Path], *, env: dict[str, str] | None = None, check: bool = True,
        cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; on an unexpected exit show what it printed."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}",
                    pytrace=False)
    return proc


def load_docs(text: str) -> Docs:
    """Every non-empty YAML document in a multi-document stream."""
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    """Documents of one kind, by metadata.name."""
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment, so a developer's AGENTBUS_* or .env never changes what is rendered."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8"}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def helm() -> Path:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"{HELM} is missing: {INSTALL_HINT}", pytrace=False)
    return HELM


@pytest.fixture(scope="session")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(f"kubectl is missing (kubectl kustomize renders k8s/): {INSTALL_HINT}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(f"docker-compose is missing: {INSTALL_HINT}", pytrace=False)
    return found


HelmTemplate = Callable[..., Docs]


@pytest.fixture(scope="session")
def helm_template(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> HelmTemplate:
    """Render the chart: helm_template(values={...}, files=[...], ok=True) -> documents."""
    tmp = tmp_path_factory.mktemp("helm-values")
    counter = iter(range(10_000))

    def render(*, values: dict[str, Any] | None = None, files: Sequence[Path] = (),
               release: str = "agentbus") -> Docs:
        args: list[str | Path] = [helm, "template", release, CHART, "--namespace", "agentbus",
                                  "--kube-version", KUBERNETES_VERSION]
        for f in files:
            args += ["-f", f]
        if values is not None:
            path = tmp / f"values-{next(counter)}.yaml"
            path.write_text(yaml.safe_dump(values))
            args += ["-f", path]
        return load_docs(run(args).stdout)

    return render


@pytest.fixture(scope="session")
def helm_failure(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], str]:
    """Render the chart with values that must be refused; returns helm's error output."""
    tmp = tmp_path_factory.mktemp("helm-bad-values")
    counter = iter(range(10_000))

    def refuse(values: dict[str, Any]) -> str:
        path = tmp / f"values-{next(counter)}.yaml"
        path.write_text(yaml.safe_dump(values))
        proc = run([helm, "template", "agentbus", CHART, "--kube-version", KUBERNETES_VERSION,
                    "-f", path], check=False)
        assert proc.returncode != 0, f"helm accepted values it should refuse: {values}"
        return proc.stderr

    return refuse


@pytest.fixture(scope="session")
def kustomize(kubectl: str) -> Callable[[str], Docs]:
    """Render a k8s/ overlay with `kubectl kustomize`."""
    cache: dict[str, Docs] = {}

    def render(overlay: str) -> Docs:
        if overlay not in cache:
            rendered = run([kubectl, "kustomize", ROOT / "k8s" / "overlays" / overlay]).stdout
            cache[overlay] = load_docs(rendered)
        return cache[overlay]

    return render
