"""The writer: drafts an article from research notes (content_pipeline step `write`)."""
