"""review: comments on a change's security; retract_comments undoes them."""

from services.agents.reviewers import make_reviewer

agent = make_reviewer("security_reviewer", focus="security", prompts=__package__)
