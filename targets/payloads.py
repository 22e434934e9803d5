"""The response bodies every target returns, so the runner can verify them before load."""

PLAINTEXT_BODY = "Hello, World!"
JSON_BODY = {"message": "Hello, World!"}
