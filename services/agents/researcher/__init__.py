"""The researcher: gathers notes on a topic (content_pipeline step `research`)."""
