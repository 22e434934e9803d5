"""Project-wide checks: docs, the slow marker, the public API, the quickstart end to end."""
