"""synthesise: one review from four; recommends APPROVE or REQUEST_CHANGES.

The recommendation is a rule, not the model's opinion: any reviewer asking for changes blocks the
merge. The model writes the summary a human reads.
"""

from __future__ import annotations

from typing import Any

from agentbus.agent import Agent, TaskContext, TaskFailed
from services.agents.common import list_of_text

REVIEWS = ("style", "security", "performance", "tests")

agent = Agent("synthesiser", versions=(1, 2), prompts=__package__,
              description="Merges the reviews of a change into one recommendation.")


@agent.action("synthesise")
async def synthesise(task: TaskContext) -> dict[str, Any]:
    """Merge the reviews: blocking reviewers, every comment, a summary and the recommendation."""
    reviews = task.input.get("reviews")
    if not isinstance(reviews, dict) or not reviews:
        raise TaskFailed("synthesise needs `reviews`: a mapping from reviewer to its review output; "
                         "check the code_review saga definition", code="bad_input")
    change = task.input.get("change")
    change = change if isinstance(change, dict) else {}
    blocking = sorted(name for name, review in reviews.items()
                      if isinstance(review, dict) and review.get("verdict") == "REQUEST_CHANGES")
    comments = [f"[{name}] {comment}" for name in sorted(reviews)
                if isinstance(reviews[name], dict)
                for comment in list_of_text(reviews[name].get("comments"))]
    answer = await task.complete_json(
        {"title": str(change.get("title") or "(untitled change)"),
         "blocking": ", ".join(blocking) or "none", "comments": comments or ["(no comments)"]},
        keys=("summary",))
    return {"recommendation": "REQUEST_CHANGES" if blocking else "APPROVE", "blocking": blocking,
            "comments": comments, "summary": str(answer["summary"])}
