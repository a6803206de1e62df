"""The text fields of a v2 Task an agent reads, by path, and a copy of a task with some replaced.

Paths: `input.topic`, `input.meta.author`, `input.items[0]`, `input["odd key"]`,
`context[0].text`, `headers.note`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Final

from google.protobuf import struct_pb2

from agentbus.contracts.v2 import message_pb2

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _walk_struct(struct: struct_pb2.Struct, path: str) -> Iterator[tuple[str, struct_pb2.Value]]:
    for key in sorted(struct.fields):
        yield from _walk_value(struct.fields[key], _child(path, key))


def _walk_value(value: struct_pb2.Value, path: str) -> Iterator[tuple[str, struct_pb2.Value]]:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        yield path, value
    elif kind == "struct_value":
        yield from _walk_struct(value.struct_value, path)
    elif kind == "list_value":
        for i, item in enumerate(value.list_value.values):
            yield from _walk_value(item, f"{path}[{i}]")


def text_fields(task: message_pb2.Task,
                headers: Mapping[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Every text an agent reads from this task: `(path, text)`, in a stable order."""
    for path, value in _walk_struct(task.input, "input"):
        yield path, value.string_value
    for i, item in enumerate(task.context):
        yield f"context[{i}].text", item.text
    for name in sorted(headers or {}):
        yield _child("headers", name), (headers or {})[name]


def replaced(task: message_pb2.Task, texts: Mapping[str, str]) -> message_pb2.Task:
    """A copy of `task` where the fields named in `texts` (input and context paths) are replaced."""
    copy = message_pb2.Task()
    copy.CopyFrom(task)
    if not texts:
        return copy
    for path, value in _walk_struct(copy.input, "input"):
        if path in texts:
            value.string_value = texts[path]
    for i, item in enumerate(copy.context):
        path = f"context[{i}].text"
        if path in texts:
            item.text = texts[path]
    return copy


def replaced_headers(headers: Mapping[str, str], texts: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` where the fields named in `texts` (`headers.<name>`) are replaced."""
    return {name: texts.get(_child("headers", name), value) for name, value in headers.items()}
