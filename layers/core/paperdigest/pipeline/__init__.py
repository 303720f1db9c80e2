"""The three stages of a digest run: ingest, summarize, publish."""
