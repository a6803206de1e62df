"""research: notes and sources on a topic, kept in the side-effect store; discard_notes undoes it."""

from __future__ import annotations

from typing import Any

from agentbus.agent import Agent, TaskContext
from services.agents.common import in_store, list_of_text, saga_key, text_input

agent = Agent("researcher", versions=(1, 2), prompts=__package__,
              description="Gathers notes and sources on a topic.")


@agent.action("research")
async def research(task: TaskContext) -> dict[str, Any]:
    """Ask the model for notes and sources on `topic`, and keep the notes."""
    topic = text_input(task, "topic")
    answer = await task.complete_json({"topic": topic}, keys=("notes", "sources"))
    notes, sources = list_of_text(answer["notes"]), list_of_text(answer["sources"])
    await in_store(lambda store: store.save_notes(saga_key(task), topic, notes))
    return {"topic": topic, "notes": notes, "sources": sources}


@agent.compensation("discard_notes")
async def discard_notes(task: TaskContext) -> dict[str, Any]:
    """Discard the saga's research notes (a no-op when there are none)."""
    discarded = await in_store(lambda store: store.discard_notes(saga_key(task)))
    return {"discarded": discarded}
