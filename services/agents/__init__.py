"""The reference agents, one deployable package each: `python -m services.agents.<name>`.

content_pipeline: researcher, writer, editor (speaks message_v1 only), publisher.
code_review: style_reviewer, security_reviewer, performance_reviewer, tests_reviewer, synthesiser.
"""

from typing import Final

CONTENT_PIPELINE: Final = ("researcher", "writer", "editor", "publisher")
CODE_REVIEW: Final = (
    "style_reviewer", "security_reviewer", "performance_reviewer", "tests_reviewer", "synthesiser",
)
REFERENCE_AGENTS: Final = CONTENT_PIPELINE + CODE_REVIEW
