"""Compile the guardrail's scanning modules to C with mypyc (run by `make compile` and `make setup`).

The build goes to services/guardrail/scanning/_compiled/ with a manifest of the sources it was
made from; the package loads it only while those sources are unchanged
(services/guardrail/scanning/compiled.py). Nothing is rebuilt when the build is current.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "services" / "guardrail" / "scanning"
# The C library every compiled module's shim loads; a submodule of the package so that the
# package's __path__ finds it wherever the package is installed.
GROUP_NAME = "services.guardrail.scanning.native"

DESCRIPTION = """\
Compile services/guardrail/scanning/ to C with mypyc into its _compiled/ folder (~1.4x the
scanning throughput). Skips the work when the build there matches the sources. Needs a C compiler
and the Python headers (gcc and python3-dev on Debian), and mypy from the dev or compile extras."""


def compile_into(build_dir: Path) -> None:
    """Build every compiled module and the shared library, then install them in `build_dir`."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    from services.guardrail.scanning.compiled import compiled_sources, write_manifest

    sources = [str(p.relative_to(ROOT)) for p in compiled_sources(PACKAGE_DIR)]
    with tempfile.TemporaryDirectory(prefix="agentbus-mypyc-") as tmp:
        work = Path(tmp)
        extensions = mypycify(sources, opt_level="3", group_name=GROUP_NAME,
                              target_dir=str(work / "c"))
        dist = Distribution({"name": "agentbus-scanner", "ext_modules": extensions})
        build_ext = dist.get_command_obj("build_ext")
        build_ext.build_lib = str(work / "lib")
        build_ext.build_temp = str(work / "temp")
        dist.run_command("build_ext")
        built = sorted((work / "lib" / "services" / "guardrail" / "scanning").glob("*.so"))
        if not built:
            raise SystemExit(f"mypyc built no extension modules under {work / 'lib'}")
        staging = build_dir.with_name(build_dir.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for library in built:
            shutil.copy2(library, staging / library.name)
        write_manifest(PACKAGE_DIR, staging)
        # Swap whole folders, so an interrupted build never leaves a mix of old and new modules.
        shutil.rmtree(build_dir, ignore_errors=True)
        staging.rename(build_dir)


def main(argv: list[str] | None = None) -> int:
    """Compile unless the build is current; exit 1 on failure (0 with --optional)."""
    parser = argparse.ArgumentParser(prog="scripts/compile_scanner.py", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even when the build is current")
    parser.add_argument("--optional", action="store_true",
                        help="on failure, warn that the scanner will run interpreted and exit 0 "
                             "(what `make setup` does, so a machine without a C compiler still works)")
    args = parser.parse_args(argv)
    # mypyc reads [tool.mypy] from pyproject.toml in the working directory.
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # This process only reads the sources; it must not load the build it is about to replace.
    os.environ["AGENTBUS_GUARDRAIL_SCANNER"] = "interpreted"
    from services.guardrail.scanning.compiled import BUILD_DIR, build_status

    status = build_status(PACKAGE_DIR)
    if status.compiled and not args.force:
        print(f"compile: the scanner's compiled build is current ({PACKAGE_DIR / BUILD_DIR})")
        return 0
    print(f"compile: compiling the guardrail scanner with mypyc (about 1-2 minutes; was {status.describe()})",
          flush=True)
    started = time.monotonic()
    try:
        compile_into(PACKAGE_DIR / BUILD_DIR)
    except (Exception, SystemExit) as exc:  # any failure gets the same advice
        print(f"compile: mypyc failed: {exc}", file=sys.stderr)
        advice = ("install a C compiler and the Python headers (Debian: apt-get install gcc python3-dev) "
                  "and run `make compile`")
        if args.optional:
            print(f"compile: WARNING: the guardrail scanner will run interpreted (~1.4x slower); {advice}",
                  file=sys.stderr)
            return 0
        print(f"compile: {advice}", file=sys.stderr)
        return 1
    after = build_status(PACKAGE_DIR)
    print(f"compile: done in {time.monotonic() - started:.0f} s; the scanner is {after.describe()}")
    return 0 if after.compiled else 1


if __name__ == "__main__":
    sys.exit(main())
