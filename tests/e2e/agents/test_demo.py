"""`agentbus demo` (what `make run` ends with) as a user runs it: both sagas end as expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.agents.side_effects import SideEffectStore

pytestmark = pytest.mark.e2e


def test_the_demo_ends_with_one_saga_completed_and_one_compensated(
        applied: dict[str, str], tmp_path: Path, base_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentbus.cli.main", "demo", "--base-port", str(base_port)],
        env=applied, cwd=tmp_path, capture_output=True, text=True, timeout=110, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = done.stdout.strip().splitlines()
    completed, compensated, verdict = lines[-3:]
    assert completed.startswith("content_pipeline ")
    assert ": completed (as expected); article published at https://blog.example.com/" in completed
    # The guardrail blocked the publish task: the shell payload in the announcement never reached it.
    assert ": compensated (as expected); step publish failed (guardrail_blocked)" in compensated
    assert "write.discard_draft (compensated), then research.discard_notes (compensated)" in compensated
    assert verdict == "demo: both sagas ended as expected"

    # Shown live on the way: each step, the compensations in reverse, the v1 editor, a clean stop.
    assert "step publish        failed" in output
    assert "input.announcement: executable payload shell" in output
    assert output.index("undo write") < output.index("undo research")
    assert "and it answered in message_v1" in output
    assert "all 11 services exited cleanly" in output

    # And the side effects are really there (and really undone).
    saga_ids = [line.split()[1].rstrip(":") for line in (completed, compensated)]
    store = SideEffectStore(tmp_path / ".agentbus" / "side_effects.db")
    assert store.summary(saga_ids[0])["article"].startswith("published (https://")
    assert store.summary(saga_ids[1]) == {"notes": "discarded", "draft": "discarded"}
    assert (tmp_path / ".agentbus" / "logs" / "editor.log").read_text()
