"""The style reviewer (code_review, parallel step `style`)."""
