"""The security reviewer (code_review, parallel step `security`)."""
