"""Choose between the mypyc-compiled build of the scanning package and its Python sources.

`make compile` (part of `make setup`) compiles every scanning module to C with mypyc into
`_compiled/` beside them, with a manifest holding a digest of the sources it was built from. The
package puts `_compiled/` first on its `__path__` only when that digest matches the sources on
disk and the build is for this interpreter, so an edited module never runs as stale C: it runs
interpreted until the next `make compile`. Same code either way; compiled it scans ~1.4x faster
(ARCHITECTURE.md, "How fast the guardrail scans").

This module is the one part never compiled: it runs before the choice is made.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agentbus.errors import ConfigurationError

ENV_VAR: Final = "AGENTBUS_GUARDRAIL_SCANNER"
CHOICES: Final = ("auto", "compiled", "interpreted")
BUILD_DIR: Final = "_compiled"
MANIFEST: Final = "manifest.json"
# Modules that stay Python: the package marker and this loader, which run before the choice.
NOT_COMPILED: Final = frozenset({"__init__.py", "compiled.py"})


@dataclass(frozen=True)
class ScannerBuild:
    """Which build of the scanner this process runs, and why."""

    compiled: bool
    detail: str

    def describe(self) -> str:
        """One line for logs and benchmark reports."""
        return f"{'compiled (mypyc)' if self.compiled else 'interpreted'}: {self.detail}"


def compiled_sources(package_dir: Path) -> list[Path]:
    """The modules `make compile` compiles, in a stable order."""
    return sorted(p for p in package_dir.glob("*.py") if p.name not in NOT_COMPILED)


def sources_digest(package_dir: Path) -> str:
    """A digest of the compiled modules' names and contents."""
    digest = hashlib.sha256()
    for path in compiled_sources(package_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def write_manifest(package_dir: Path, build_dir: Path) -> None:
    """Record, in `build_dir`, which sources and interpreter the build there was made from."""
    manifest = {"sources_sha256": sources_digest(package_dir), "cache_tag": sys.implementation.cache_tag}
    (build_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def build_status(package_dir: Path) -> ScannerBuild:
    """Whether a usable compiled build sits beside the sources in `package_dir`."""
    manifest_path = package_dir / BUILD_DIR / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        return ScannerBuild(False, "no compiled build; `make compile` builds one (needs a C compiler)")
    except (OSError, ValueError) as exc:
        return ScannerBuild(False, f"unreadable {manifest_path} ({exc}); rebuild it with `make compile`")
    if not isinstance(manifest, dict):
        return ScannerBuild(False, f"malformed {manifest_path}; rebuild it with `make compile`")
    tag = sys.implementation.cache_tag
    if manifest.get("cache_tag") != tag:
        return ScannerBuild(False, f"the compiled build is for {manifest.get('cache_tag')}, this is {tag}; "
                                   "rebuild it with `make compile`")
    if manifest.get("sources_sha256") != sources_digest(package_dir):
        return ScannerBuild(False, "the sources changed since the compiled build; "
                                   "rebuild it with `make compile`")
    return ScannerBuild(True, f"built from these sources, in {package_dir / BUILD_DIR}")


def choose_build(package_path: list[str], choice: str) -> tuple[list[str], ScannerBuild]:
    """The package `__path__` for `choice` (auto, compiled or interpreted), and what it runs.

    Raises ConfigurationError for an unknown choice, or for `compiled` without a usable build.
    """
    if choice not in CHOICES:
        raise ConfigurationError(
            f"{ENV_VAR}={choice!r} is not one of {', '.join(CHOICES)}: use auto (the compiled "
            "build when it is current, else the Python sources), compiled or interpreted")
    package_dir = Path(package_path[0])
    if choice == "interpreted":
        return list(package_path), ScannerBuild(False, f"{ENV_VAR}=interpreted")
    status = build_status(package_dir)
    if not status.compiled:
        if choice == "compiled":
            raise ConfigurationError(f"{ENV_VAR}=compiled but the scanner is {status.describe()}; "
                                     f"or set {ENV_VAR}=auto to fall back to the Python sources")
        return list(package_path), status
    return [str(package_dir / BUILD_DIR), *package_path], status
