"""The mypyc-compiled scanner: when it loads, that it is what runs here, and that it agrees with Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import BuiltinFunctionType

import pytest

from agentbus.errors import ConfigurationError
from services.guardrail import scanning
from services.guardrail.commands.common import default_corpus
from services.guardrail.scanning.compiled import (
    BUILD_DIR,
    ENV_VAR,
    MANIFEST,
    build_status,
    choose_build,
    sources_digest,
    write_manifest,
)

ROOT = Path(__file__).resolve().parents[3]
HOLDOUTS = [ROOT / "tests" / "data" / "guardrail" / "holdout.jsonl",
            ROOT / "tests" / "data" / "guardrail" / "holdout2.jsonl"]


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A package folder with a few modules and a build folder whose manifest matches them."""
    pkg = tmp_path / "scanning"
    pkg.mkdir()
    for name in ("__init__.py", "compiled.py", "pii.py", "phones.py"):
        (pkg / name).write_text(f"# {name}\n")
    (pkg / BUILD_DIR).mkdir()
    write_manifest(pkg, pkg / BUILD_DIR)
    return pkg


def test_a_current_build_goes_first_on_the_package_path(package: Path) -> None:
    path, build = choose_build([str(package)], "auto")
    assert build.compiled
    assert path == [str(package / BUILD_DIR), str(package)]


def test_an_edited_module_makes_the_build_stale(package: Path) -> None:
    (package / "pii.py").write_text("# pii.py, edited\n")
    path, build = choose_build([str(package)], "auto")
    assert not build.compiled
    assert "sources changed" in build.detail
    assert "make compile" in build.detail
    assert path == [str(package)]


def test_a_new_module_makes_the_build_stale_but_the_loader_and_marker_do_not(package: Path) -> None:
    (package / "__init__.py").write_text("# edited\n")
    (package / "compiled.py").write_text("# edited\n")
    assert build_status(package).compiled
    (package / "sqli.py").write_text("# new\n")
    assert not build_status(package).compiled


def test_no_build_runs_interpreted(package: Path) -> None:
    shutil.rmtree(package / BUILD_DIR)
    path, build = choose_build([str(package)], "auto")
    assert (path, build.compiled) == ([str(package)], False)
    assert "no compiled build" in build.detail


def test_a_build_for_another_interpreter_is_not_used(package: Path) -> None:
    manifest = package / BUILD_DIR / MANIFEST
    manifest.write_text(json.dumps({"sources_sha256": sources_digest(package), "cache_tag": "cpython-399"}))
    build = build_status(package)
    assert not build.compiled
    assert "cpython-399" in build.detail


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_damaged_manifest_runs_interpreted_and_says_so(package: Path, content: str) -> None:
    (package / BUILD_DIR / MANIFEST).write_text(content)
    build = build_status(package)
    assert not build.compiled
    assert "make compile" in build.detail


def test_interpreted_is_chosen_even_with_a_current_build(package: Path) -> None:
    path, build = choose_build([str(package)], "interpreted")
    assert (path, build.compiled) == ([str(package)], False)


def test_compiled_without_a_usable_build_is_a_clear_error(package: Path) -> None:
    (package / "pii.py").write_text("# edited\n")
    with pytest.raises(ConfigurationError, match=r"=compiled but .*make compile.*=auto"):
        choose_build([str(package)], "compiled")


def test_an_unknown_choice_is_a_clear_error(package: Path) -> None:
    with pytest.raises(ConfigurationError, match="auto, compiled, interpreted"):
        choose_build([str(package)], "fast")


def test_this_checkout_runs_the_compiled_scanner() -> None:
    # The speed figures in ARCHITECTURE.md are those of the compiled build: the tests must run it.
    if os.environ.get(ENV_VAR) == "interpreted":
        pytest.fail(f"{ENV_VAR}=interpreted is set; unset it to test the build the services run")
    from services.guardrail.scanning import detector, executable, scanner

    assert scanning.BUILD.compiled, (f"the scanner is {scanning.BUILD.describe()}; `make compile` builds "
                                     "it (`make setup` and `make test` do)")
    # Compiled functions are C functions; a module loaded from the sources would hold Python ones.
    for function in (scanner.decide, detector.detect, executable.find_executables):
        assert isinstance(function, BuiltinFunctionType), f"{function!r} is not compiled"


_DUMP_RESULTS = """
import json, sys
from services.guardrail.scanning import BUILD
from services.guardrail.scanning.scanner import Scanner
scanner = Scanner()
out = {"build": BUILD.compiled, "results": []}
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            r = scanner.scan_text(json.loads(line)["text"])
            out["results"].append([r.decision, r.redacted, list(r.reasons),
                                   [[f.type, f.category, f.start, f.end, f.action, f.placeholder]
                                    for f in r.findings]])
print(json.dumps(out))
"""


def _scan_all(choice: str, corpora: list[Path]) -> tuple[bool, list[object]]:
    env = {**os.environ, ENV_VAR: choice}
    done = subprocess.run([sys.executable, "-c", _DUMP_RESULTS, *map(str, corpora)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data["build"], data["results"]


def test_compiled_and_interpreted_scanners_agree_on_every_corpus() -> None:
    corpora = [default_corpus(), *HOLDOUTS]
    for corpus in corpora:
        assert corpus.is_file(), f"{corpus} not found (the dev corpus lives in ../shared/guardrail/)"
    compiled_ran, compiled = _scan_all("compiled", corpora)
    interpreted_ran, interpreted = _scan_all("interpreted", corpora)
    assert (compiled_ran, interpreted_ran) == (True, False)
    assert len(compiled) == len(interpreted) > 2500
    differing = [i for i, (a, b) in enumerate(zip(compiled, interpreted, strict=True)) if a != b]
    assert not differing, f"{len(differing)} results differ, first at record {differing[0]}"
