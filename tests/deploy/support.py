"""Helpers the deploy tests share: paths, a subprocess runner, YAML loading."""

from __future__ import annotations

import os
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


HelmTemplate = Callable[..., Docs]
