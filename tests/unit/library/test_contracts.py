"""The committed generated code matches proto/, and the contracts keep their wire promises."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from agentbus.contracts.v1 import message_pb2 as v1
from agentbus.contracts.v2 import message_pb2 as v2

ROOT = Path(__file__).resolve().parents[3]


def test_generated_code_is_fresh() -> None:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec
    assert spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.stale_files() == [], "run `make proto` and commit the result"


def test_v2_is_a_wire_compatible_superset_of_v1() -> None:
    old_fields = {f.number: (f.name, f.type, f.is_repeated) for f in v1.Message.DESCRIPTOR.fields}
    new_fields = {f.number: (f.name, f.type, f.is_repeated) for f in v2.Message.DESCRIPTOR.fields}
    for number, spec in old_fields.items():
        assert new_fields[number] == spec, f"field {number} changed between v1 and v2"
    assert set(new_fields) > set(old_fields)
