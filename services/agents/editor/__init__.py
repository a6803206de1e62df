"""The editor: polishes a draft (content_pipeline step `edit`). It speaks message_v1 only."""
