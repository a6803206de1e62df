"""The publisher: puts the article on the (local) site (content_pipeline step `publish`)."""
