"""edit: the final article from a draft. A message_v1-only agent: it replies in v1.

It is the proof that one saga can mix versions: the orchestrator and the other agents speak v2,
this agent announces `schema_versions: [1]` and answers with a v1 envelope that echoes the task's,
so the saga id, step, attempt and trace (v2 fields it does not know) ride back unchanged.
"""

from __future__ import annotations

from typing import Any

from agentbus.agent import Agent, TaskContext
from services.agents.common import list_of_text, text_input

agent = Agent("editor", versions=(1,), prompts=__package__,
              description="Edits a draft into the final article (message_v1 only).")


@agent.action("edit")
async def edit(task: TaskContext) -> dict[str, Any]:
    """Ask the model for the edited article and a list of the changes made."""
    draft = text_input(task, "draft")
    answer = await task.complete_json({"draft": draft}, keys=("article", "changes"))
    article = str(answer["article"]).strip() or draft
    return {"article": article, "changes": list_of_text(answer["changes"])}
