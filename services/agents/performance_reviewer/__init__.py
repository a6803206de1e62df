"""The performance reviewer (code_review, parallel step `performance`)."""
