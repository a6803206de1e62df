"""publish: the article goes live in the side-effect store (a real SQLite table); unpublish undoes it.

The site refuses titles longer than MAX_TITLE characters, as real CMSs do; that refusal is final
(retrying cannot shorten the title), so the saga compensates what came before.
"""

from __future__ import annotations

from typing import Any, Final

from agentbus.agent import Agent, TaskContext, TaskFailed
from services.agents.common import in_store, list_of_text, saga_key, text_input

MAX_TITLE: Final = 80

agent = Agent("publisher", versions=(1, 2), prompts=__package__,
              description="Publishes articles on the site; unpublishes them on compensation.")


@agent.action("publish")
async def publish(task: TaskContext) -> dict[str, Any]:
    """Check the title, write a summary and tags, and publish."""
    title = text_input(task, "title")
    article = text_input(task, "article")
    announcement = task.input.get("announcement")
    if len(title) > MAX_TITLE:
        raise TaskFailed(
            f"the site accepts titles of at most {MAX_TITLE} characters and this one has {len(title)} "
            f"({title[:40]!r}...); start the saga again with a shorter topic", code="title_too_long")
    meta = await task.complete_json({"title": title, "article": article}, keys=("summary", "tags"))
    post = await in_store(lambda store: store.publish(saga_key(task), title, article))
    result: dict[str, Any] = {"url": post.url, "slug": post.slug, "summary": str(meta["summary"]),
                              "tags": list_of_text(meta["tags"])}
    if isinstance(announcement, str) and announcement.strip():
        result["announcement"] = f"{announcement.strip()} {post.url}"
    return result


@agent.compensation("unpublish")
async def unpublish(task: TaskContext) -> dict[str, Any]:
    """Take the saga's article down (a no-op when it never went up)."""
    post = await in_store(lambda store: store.unpublish(saga_key(task)))
    if post is None:
        return {"unpublished": False, "reason": "nothing was published for this saga"}
    return {"unpublished": True, "url": post.url}
