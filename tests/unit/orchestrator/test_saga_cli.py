"""`agentbus saga` without a broker: input parsing, what each transition prints, the follower."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from agentbus import codec
from agentbus.cli import saga_cmd
from agentbus.cli.main import build_parser
from agentbus.contracts.v2 import message_pb2 as v2
from agentbus.errors import ConfigurationError
from services.orchestrator.machine import EmitEvent, TimerKind
from services.orchestrator.messages import event_envelope
from tests.unit.orchestrator.harness import Harness, reference


def events_of(harness: Harness) -> list[v2.Message]:
    """The lifecycle envelopes the orchestrator would publish for a harness run."""
    return [event_envelope(e, source="orchestrator")
            for t in harness.transitions for e in t.of_type(EmitEvent)]


def follow(messages: list[v2.Message], saga_id: str = "saga-1") -> tuple[saga_cmd.SagaFollower, str]:
    out = io.StringIO()
    follower = saga_cmd.SagaFollower(saga_id, saga_cmd.Progress(out, rich=False))
    for message in messages:
        follower.take(message)
    return follower, out.getvalue()


def completed_run() -> Harness:
    h = Harness(reference("content_pipeline"), {"topic": "otters"})
    h.ok("research", {"notes": ["n"]})
    h.now = h.now.replace(second=2)
    h.ok("write", {"draft": "d"})
    h.ok("edit", {"article": "a"})
    h.ok("publish", {"url": "u"})
    return h


def compensated_run() -> Harness:
    h = Harness(reference("content_pipeline"), {"topic": "otters"})
    h.ok("research", {"notes": ["n"]})
    h.ok("write", {"draft": "d"})
    h.fail("edit", code="too_long")
    h.now += timedelta(seconds=1)
    h.comp_ok("write")
    h.now += timedelta(seconds=1)
    h.comp_ok("research")
    return h


def test_the_parser_knows_the_three_subcommands() -> None:
    parser = build_parser()
    start = parser.parse_args(["saga", "start", "content_pipeline", "--input", "{}", "--wait",
                               "--timeout", "5", "--json", "--schema", "1"])
    assert (start.subcommand, start.saga_type, start.wait, start.timeout, start.json,
            start.schema) == ("start", "content_pipeline", True, 5.0, True, 1)
    show = parser.parse_args(["saga", "show", "abc", "--json"])
    assert (show.subcommand, show.saga_id, show.json) == ("show", "abc", True)
    listed = parser.parse_args(["saga", "list", "--status", "escalated", "--limit", "3"])
    assert (listed.subcommand, listed.status, listed.limit) == ("list", "escalated", 3)
    with pytest.raises(SystemExit):
        parser.parse_args(["saga", "list", "--status", "lost"])


def test_input_is_a_json_object_or_a_file(tmp_path: Path) -> None:
    assert saga_cmd.read_input('{"topic": "otters"}') == {"topic": "otters"}
    path = tmp_path / "in.json"
    path.write_text('{"change": {"diff": "+x"}}')
    assert saga_cmd.read_input(f"@{path}") == {"change": {"diff": "+x"}}
    with pytest.raises(ConfigurationError, match="must be a JSON object"):
        saga_cmd.read_input("[1, 2]")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        saga_cmd.read_input("{topic: otters}")
    with pytest.raises(ConfigurationError, match="cannot read the input file"):
        saga_cmd.read_input(f"@{tmp_path}/missing.json")


def test_the_start_message_carries_the_saga_id_and_reads_back_as_v1() -> None:
    message = saga_cmd.start_message("content_pipeline", {"topic": "otters"}, saga_id="s-1",
                                     source="cli")
    assert (message.saga_id, message.correlation_id) == ("s-1", "s-1")
    assert message.saga_start.saga_type == "content_pipeline"
    old = codec.downcast_v2_v1(message)
    assert (old.kind, old.headers["saga_type"]) == ("saga_start", "content_pipeline")
    assert codec.struct_to_dict(old.payload) == {"topic": "otters"}
    assert codec.upcast_v1_v2(old).saga_id == "s-1"


def test_a_completed_saga_prints_one_line_per_transition_then_finishes() -> None:
    follower, printed = follow(events_of(completed_run()))
    lines = printed.splitlines()
    assert lines[0].endswith("started content_pipeline saga-1 (steps: research, write, edit, publish)")
    steps = [line.split()[2] for line in lines if " step " in line]
    assert steps == ["research", "write", "edit", "publish"]
    assert "completed" in lines[1]
    assert "attempt 1" in lines[1]
    assert "2.00s" in lines[2]  # write ran from 12:00:00 to 12:00:02
    assert lines[-1].split()[1:3] == ["completed", "in"]
    assert follower.status == "completed"
    assert follower.finished.is_set()
    assert follower.record is not None
    assert follower.final_json("content_pipeline") == follower.record.to_dict()


def test_a_compensated_saga_shows_why_and_each_compensation_in_order() -> None:
    follower, printed = follow(events_of(compensated_run()))
    assert follower.status == "compensated"
    assert "compensating after edit failed; undoing write then research" in printed
    undo = [line.split()[:5] for line in printed.splitlines() if " undo " in line]
    # Each compensation at the moment it ended, with how long it took.
    assert undo == [["+1.00s", "undo", "write", "discard_draft", "compensated"],
                    ["+2.00s", "undo", "research", "discard_notes", "compensated"]]
    assert "compensated in 2.00s" in printed
    assert "step edit failed (too_long: edit went wrong)" in printed
    record = follower.final_json("content_pipeline")
    assert [c["step"] for c in record["compensations"]] == ["write", "research"]


def test_an_escalated_saga_says_a_human_must_look() -> None:
    h = Harness(reference("content_pipeline"), {"topic": "otters"})
    h.ok("research", {"notes": ["n"]})
    h.fail("write")
    h.comp_fail("research", retryable=False)
    follower, printed = follow(events_of(h))
    assert follower.status == "escalated"
    assert "escalated: compensation_failed" in printed
    assert "a human must look at it: agentbus saga show saga-1" in printed


def test_the_follower_skips_other_sagas_duplicates_and_start_requests() -> None:
    messages = events_of(completed_run())
    other = events_of(Harness(reference("content_pipeline"), {"topic": "x"}, saga_id="other"))
    start = saga_cmd.start_message("content_pipeline", {}, saga_id="saga-1", source="cli")
    shuffled = [start, *other, messages[0], messages[0], *messages[1:]]
    _, printed = follow(shuffled)
    _, reference_output = follow(messages)
    assert printed == reference_output


def test_a_refused_start_finishes_the_follower_with_the_error() -> None:
    refusal = codec.new_envelope(v2.LifecycleEvent(
        saga_type="mystery", status=v2.SAGA_STATUS_ESCALATED,
        error=v2.Error(code="unknown_saga_type", message="no saga type 'mystery' is defined")),
        source="orchestrator", saga_id="saga-1")
    follower, printed = follow([refusal])
    assert follower.status == "escalated"
    assert printed.strip() == "escalated: unknown_saga_type: no saga type 'mystery' is defined"
    assert follower.final_json("mystery") == {
        "saga_id": "saga-1", "saga_type": "mystery", "status": "escalated",
        "error": {"code": "unknown_saga_type", "message": "no saga type 'mystery' is defined",
                  "retryable": False},
        "steps": [], "compensations": []}


def test_retries_and_timeouts_show_in_the_step_line() -> None:
    h = Harness(reference("content_pipeline"), {"topic": "otters"})
    h.fire(TimerKind.STEP_TIMEOUT, "research")
    h.fire(TimerKind.STEP_RETRY, "research")
    h.ok("research", {"notes": []})
    _, printed = follow(events_of(h))
    (line,) = [line for line in printed.splitlines() if "step research" in line]
    assert "attempt 2" in line


def test_show_and_list_lines() -> None:
    record = compensated_run().record
    record.version = 7
    shown = [text for text, _ in saga_cmd.describe(record)]
    assert shown[0] == "saga saga-1 (content_pipeline): compensated"
    assert "version 7" in shown[1]
    assert json.loads(shown[2].removeprefix("  input ")) == {"topic": "otters"}
    assert any(line.split()[:2] == ["step", "edit"] and "too_long" in line for line in shown)
    assert shown[-1] == "  failure: step edit: too_long: edit went wrong"
    listed = saga_cmd.list_lines([record, completed_run().record])
    assert listed[0][0].split()[:3] == ["SAGA", "TYPE", "STATUS"]
    assert listed[1][0].split()[:3] == ["saga-1", "content_pipeline", "compensated"]
    assert listed[1][0].split()[-1] == "edit"
    assert listed[2][0].split()[2] == "completed"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_uses_rich_styles_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = io.StringIO()
    saga_cmd.Progress(plain, rich=False).line("step [x] ok", style="green")
    assert plain.getvalue() == "step [x] ok\n"
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    styled = FakeTerminal()
    saga_cmd.Progress(styled, rich=True).line("step [x] ok", style="green")
    assert styled.getvalue() == "\x1b[32mstep [x] ok\x1b[0m\n"  # markup in the text is escaped
