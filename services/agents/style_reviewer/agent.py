"""review: comments on a change's style; retract_comments undoes them."""

from services.agents.reviewers import make_reviewer

agent = make_reviewer("style_reviewer", focus="style", prompts=__package__)
