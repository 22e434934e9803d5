"""Masking secrets in text and data: the one implementation, for the model (a stored
`database.dsn`) and for every file and message the runner writes (runner.records.redact).

Masked forms:
- URL / DSN credentials: `postgresql://user:secret@host/db` -> `postgresql://user:***@host/db`;
- key=value and key: value pairs: `password=secret` (libpq keyword DSNs, query strings,
  environment listings, YAML), `DB_PASSWORD: secret` -> `password=***`, `DB_PASSWORD: ***`;
- values under keys that name a secret (`password`, `DB_PASSWORD`, `SECRET_KEY`, `api_token`).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MASK", "redact_data", "redact_text"]

MASK = "***"
# scheme://user:password@ ; the password runs to the last '@' before the host (no '/' or space).
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)(?P<secret>[^/?#\s]*)@"
)
# password=..., DB_PASSWORD=..., "password": ..., password: ... (query strings, libpq DSNs,
# environment listings, YAML).
_KEY_VALUE = re.compile(
    r"(?P<head>\b[\w.-]*?(?:password|passwd|secret|token|api_?key)\w*[\"']?\s*[=:]\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,'\"]+)",
    re.IGNORECASE,
)
_SECRET_KEY_NAME = re.compile(r"(password|passwd|secret|token|api_?key|credential)", re.IGNORECASE)


def redact_text(text: str) -> str:
    """`text` with every password it visibly carries replaced by ***."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('head')}{MASK}", text)


def redact_data(data: Any) -> Any:
    """A copy of JSON-like `data` with secrets masked in every string and secret-named key."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, dict):
        return {
            key: (
                MASK
                if isinstance(key, str) and _SECRET_KEY_NAME.search(key) and isinstance(value, str)
                else redact_data(value)
            )
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_data(item) for item in data]
    return data
