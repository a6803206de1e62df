"""The four code reviewers share one shape: review a change from one angle, post comments; undo = retract.

Each reviewer is its own package (its own process, queue, broker user and prompts); this module
builds their Agent declarations.
"""

from __future__ import annotations

from typing import Any, Final

from agentbus.agent import Agent, TaskContext, TaskFailed
from services.agents.common import in_store, list_of_text, saga_key, text_input

VERDICTS: Final = ("APPROVE", "REQUEST_CHANGES")


def change_of(task: TaskContext) -> tuple[str, str]:
    """The change under review: its title (optional) and its diff (required)."""
    diff = text_input(task, "diff")
    title = task.input.get("title")
    return (title.strip() if isinstance(title, str) and title.strip() else "(untitled change)"), diff


def make_reviewer(name: str, *, focus: str, prompts: str) -> Agent:
    """A reviewer agent named `name` that looks at `focus`, with its prompts in package `prompts`."""
    agent = Agent(name, versions=(1, 2), prompts=prompts, description=f"Reviews a change for {focus}.")

    @agent.action("review")
    async def review(task: TaskContext) -> dict[str, Any]:
        title, diff = change_of(task)
        answer = await task.complete_json({"title": title, "diff": diff},
                                          keys=("verdict", "severity", "comments", "summary"))
        verdict = str(answer["verdict"]).strip().upper()
        if verdict not in VERDICTS:
            raise TaskFailed(f"{name}: the model's verdict {answer['verdict']!r} is not one of "
                             f"{VERDICTS}", code="bad_verdict", retryable=True)
        severity = str(answer["severity"]).strip().lower() or "low"
        comments = list_of_text(answer["comments"])
        posted = await in_store(
            lambda store: store.post_comments(saga_key(task), name, [(severity, c) for c in comments]))
        return {"reviewer": name, "focus": focus, "verdict": verdict, "severity": severity,
                "comments": comments, "posted": posted, "summary": str(answer["summary"])}

    @agent.compensation("retract_comments")
    async def retract_comments(task: TaskContext) -> dict[str, Any]:
        retracted = await in_store(lambda store: store.retract_comments(saga_key(task), name))
        return {"reviewer": name, "retracted": retracted}

    return agent
