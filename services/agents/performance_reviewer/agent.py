"""review: comments on a change's performance; retract_comments undoes them."""

from services.agents.reviewers import make_reviewer

agent = make_reviewer("performance_reviewer", focus="performance", prompts=__package__)
