"""write: a titled draft from a topic and notes, kept in the side-effect store; discard_draft undoes it."""

from __future__ import annotations

from typing import Any

from agentbus.agent import Agent, TaskContext
from services.agents.common import in_store, list_of_text, saga_key, text_input

agent = Agent("writer", versions=(1, 2), prompts=__package__,
              description="Drafts an article from research notes.")


@agent.action("write")
async def write(task: TaskContext) -> dict[str, Any]:
    """Ask the model for a title and a draft built on the notes, and keep the draft."""
    topic = text_input(task, "topic")
    notes = list_of_text(task.input.get("notes"))
    answer = await task.complete_json({"topic": topic, "notes": notes or ["(no notes)"]},
                                      keys=("title", "draft"))
    title, draft = str(answer["title"]).strip(), str(answer["draft"]).strip()
    await in_store(lambda store: store.save_draft(saga_key(task), title, draft))
    return {"title": title, "draft": draft}


@agent.compensation("discard_draft")
async def discard_draft(task: TaskContext) -> dict[str, Any]:
    """Discard the saga's draft (a no-op when there is none)."""
    discarded = await in_store(lambda store: store.discard_draft(saga_key(task)))
    return {"discarded": discarded}
