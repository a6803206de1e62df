"""Fixtures for the deploy checks: the repo, the pinned tools, and renderers for compose, Helm and k8s/.

No container engine or cluster is involved: everything here renders or validates files with client
tools (docker-compose config, helm template, kubectl kustomize). A missing tool fails the test with
the command that installs it, never a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import (
    CHART,
    HELM,
    INSTALL_HINT,
    KUBERNETES_VERSION,
    ROOT,
    Docs,
    HelmTemplate,
    load_docs,
    run,
)


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
