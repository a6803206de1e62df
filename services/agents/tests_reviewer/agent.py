"""review: comments on a change's tests; retract_comments undoes them."""

from services.agents.reviewers import make_reviewer

agent = make_reviewer("tests_reviewer", focus="tests", prompts=__package__)
