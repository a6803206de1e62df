"""The tests reviewer (code_review, parallel step `tests`)."""
