#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests: built-in kinds strictly, custom resources against our schemas.

Built-in kinds go through kubernetes-validate with strict schemas (what `kubernetes-validate --strict`
does: unknown fields are errors). kubernetes-validate knows no custom resources and only *warns* about
them, so RabbitmqCluster, the Messaging Topology Operator kinds, KEDA's ScaledObject and the Prometheus
Operator's ServiceMonitor are checked against k8s/schemas/custom-resources.yaml instead. A kind known
to neither is an error, never a silent pass. Duplicate kind/namespace/name pairs are errors too.

    .venv/bin/python k8s/schemas/validate.py [-k 1.34] rendered.yaml [more.yaml | -]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs published
import yaml
from kubernetes_validate import utils as kv  # type: ignore[import-untyped]

SCHEMAS = Path(__file__).resolve().parent / "custom-resources.yaml"
DEFAULT_KUBERNETES_VERSION = "1.34"
Validators = dict[tuple[str, str], Any]  # (apiVersion, kind) -> jsonschema validator


def load_custom_schemas(path: Path = SCHEMAS) -> Validators:
    """One validator per (apiVersion, kind) described in the schemas file."""
    data = yaml.safe_load(path.read_text())
    defs = data["$defs"]
    validators: Validators = {}
    for key, kind_schema in data["kinds"].items():
        api_version, kind = key.split()
        schema = {
            "$defs": defs,
            "type": "object",
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "additionalProperties": False,
            "properties": {
                "apiVersion": {"const": api_version},
                "kind": {"const": kind},
                "metadata": {"$ref": "#/$defs/metadata"},
                "spec": kind_schema["properties"]["spec"],
            },
        }
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[(api_version, kind)] = jsonschema.Draft202012Validator(schema)
    return validators


def _where(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def validate_documents(docs: Sequence[dict[str, Any]], *, kubernetes_version: str,
                       custom: Validators) -> tuple[list[str], int, int]:
    """Return (errors, built-in count, custom count) for already-parsed manifests."""
    errors: list[str] = []
    builtin = custom_count = 0
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            errors.append(f"not a Kubernetes object: {str(doc)[:80]}")
            continue
        meta = doc.get("metadata") or {}
        label = f"{doc['kind']}/{meta.get('name', '?')}"
        ident = (doc["kind"], str(meta.get("namespace", "")), str(meta.get("name", "")))
        if ident in seen:
            errors.append(f"{label}: defined twice in namespace {ident[1] or '(none)'}")
        seen.add(ident)
        validator = custom.get((doc["apiVersion"], doc["kind"]))
        if validator is not None:
            custom_count += 1
            for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                errors.append(f"{label}: {_where(err.absolute_path)}: {err.message}")
            continue
        try:
            kv.validate(doc, kubernetes_version, strict=True)
            builtin += 1
        except kv.ValidationError as exc:
            errors.append(f"{label}: {_where(exc.path)}: {exc.message} (Kubernetes {exc.version}, strict)")
        except kv.SchemaNotFoundError:
            errors.append(f"{label}: no schema for {doc['apiVersion']} {doc['kind']} in Kubernetes "
                          f"{kubernetes_version} nor in {SCHEMAS.name}; add one before using the kind")
    return errors, builtin, custom_count


def main(argv: Sequence[str] | None = None) -> int:
    """Validate the files named on the command line; exit 1 on any error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", "--kubernetes-version",
                        default=os.environ.get("AGENTBUS_KUBERNETES_VERSION", DEFAULT_KUBERNETES_VERSION))
    parser.add_argument("files", nargs="+", help="rendered manifests (`-` for stdin)")
    args = parser.parse_args(argv)
    docs: list[dict[str, Any]] = []
    for name in args.files:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
        docs += [d for d in yaml.safe_load_all(text) if d]
    errors, builtin, custom = validate_documents(
        docs, kubernetes_version=args.kubernetes_version, custom=load_custom_schemas())
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    if errors:
        print(f"validate: {len(errors)} error(s) in {len(docs)} resource(s)", file=sys.stderr)
        return 1
    print(f"validate: {len(docs)} resource(s) valid: {builtin} built-in against Kubernetes "
          f"{args.kubernetes_version} (strict), {custom} custom against k8s/schemas/{SCHEMAS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
