"""The process supervisor under `agentbus up`: prefixed output, per-service logs, SIGKILL after grace."""

from __future__ import annotations

import asyncio
import io
import signal
import textwrap
from pathlib import Path

import pytest

from agentbus.agent.supervisor import ServiceSpec, Supervisor, SupervisorError
from tests.support.broker import wait_for

pytestmark = pytest.mark.e2e

STUBBORN = textwrap.dedent("""\
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: print("ignoring SIGTERM", flush=True))
    print("stubborn up", flush=True)
    while True:
        time.sleep(0.05)
""")
POLITE = textwrap.dedent("""\
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("polite up", flush=True)
    while True:
        time.sleep(0.05)
""")
CRASHING = 'print("about to fail", flush=True)\nraise SystemExit(3)\n'


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, body in (("stubborn", STUBBORN), ("polite", POLITE), ("crashing", CRASHING)):
        package = tmp_path / f"sv_{name}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "__main__.py").write_text(body)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return tmp_path


async def wait_for_text(out: io.StringIO, text: str) -> None:
    await wait_for(lambda: text in out.getvalue(), timeout=10, what=repr(text))


async def test_children_are_prefixed_logged_and_a_stubborn_one_is_killed(
        modules: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [ServiceSpec("stubborn", "sv_stubborn", 0), ServiceSpec("polite", "sv_polite", 0)],
        out=out, log_dir=tmp_path / "logs", grace_s=0.5)
    await supervisor.start()
    await supervisor.wait_ready(5)  # no health port: nothing to wait for
    await wait_for_text(out, "stubborn up")
    await wait_for_text(out, "polite up")
    codes = await supervisor.shutdown()
    assert codes == {"stubborn": -signal.SIGKILL, "polite": 0}
    text = out.getvalue()
    assert "stubborn | stubborn up" in text
    assert "  polite | polite up" in text
    assert "stubborn | ignoring SIGTERM" in text
    assert "stubborn did not stop within 0.5s; killing it" in text
    assert (tmp_path / "logs" / "polite.log").read_text() == "polite up\n"


async def test_a_child_dying_before_it_is_ready_is_named_with_its_last_lines(modules: Path) -> None:
    out = io.StringIO()
    supervisor = Supervisor([ServiceSpec("crashing", "sv_crashing", 1)], out=out, grace_s=1)
    await supervisor.start()
    with pytest.raises(SupervisorError, match="crashing exited with code 3 before it was ready") as info:
        await supervisor.wait_ready(10)
    assert "about to fail" in str(info.value)
    await supervisor.shutdown()


async def test_a_child_dying_later_is_reported_by_watch(modules: Path) -> None:
    supervisor = Supervisor([ServiceSpec("crashing", "sv_crashing", 0)], out=io.StringIO(), grace_s=1)
    await supervisor.start()
    dead = await asyncio.wait_for(supervisor.watch(asyncio.Event()), 10)
    assert dead is not None
    assert dead.spec.name == "crashing"
    assert "exited with code 3" in supervisor.describe_death(dead)
