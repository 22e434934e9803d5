"""What the virtual users request (`scenario:`): the requests and the answers they must get."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import ConfigDict, Field, field_validator, model_validator

from runner.config.experiment.base import NAME, NAME_PATTERN, Strict

__all__ = ["Expect", "HttpMethod", "QueryValue", "Request", "Scenario"]

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
QueryValue = str | int | float | bool


class Expect(Strict):
    """What a request must answer before any load is sent. Every check given must hold."""

    status: int = Field(default=200, ge=100, le=599)
    json_body: Any = Field(default=None, alias="json", description="Exact JSON body expected.")
    text: str | None = Field(default=None, description="Exact text body expected.")
    json_schema: dict[str, Any] | None = Field(
        default=None,
        description="A JSON Schema the body must satisfy: for bodies that vary (random rows), "
        "check their shape, e.g. keys, types and list length.",
    )
    content_type: str | None = Field(
        default=None, description="The Content-Type must start with this, e.g. 'text/plain'."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("json_schema")
    @classmethod
    def _is_a_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            # Imported here: a twentieth of a second that only experiments with a schema need.
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as error:
                raise ValueError(f"not a valid JSON Schema: {error.message}") from None
        return value


class Request(Strict):
    """One request of a scenario, with the answer it must get before load."""

    name: str | None = Field(
        default=None,
        description="Short name (k6 tag `name`); defaults to the path without its query.",
    )
    method: HttpMethod = "GET"
    path: str = Field(description="Path, optionally with a query string, e.g. '/io?ms=50'.")
    query: dict[str, QueryValue] = Field(
        default_factory=dict, description="Query parameters added to the path."
    )
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, description="Request body, sent as is.")
    json_body: Any = Field(
        default=None, alias="json", description="Request body as JSON (sets Content-Type)."
    )
    weight: float = Field(default=1.0, gt=0, description="Share of the requests in a mix.")
    expect: Expect = Field(default_factory=Expect)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("path")
    @classmethod
    def _is_a_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} must be a path starting with '/'")
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not NAME.match(value):
            raise ValueError(f"{value!r} may use only letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> Request:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either 'body' or 'json', not both")
        return self

    @property
    def label(self) -> str:
        return self.name or urlsplit(self.path).path

    @property
    def target(self) -> str:
        """Path and query string as sent on the wire."""
        if not self.query:
            return self.path
        parts = urlsplit(self.path)
        query = "&".join(filter(None, [parts.query, urlencode(self.query)]))
        return urlunsplit(("", "", parts.path, query, ""))

    @property
    def body_text(self) -> str | None:
        if self.json_body is not None:
            return json.dumps(self.json_body)
        return self.body

    @property
    def all_headers(self) -> dict[str, str]:
        if self.json_body is None or any(h.lower() == "content-type" for h in self.headers):
            return dict(self.headers)
        return {**self.headers, "Content-Type": "application/json"}


class Scenario(Strict):
    """What the virtual users request: one request, or a weighted mix of requests."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    requests: list[Request] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_names(self) -> Scenario:
        labels = [r.label for r in self.requests]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"requests share the name(s) {repeated}: give each a distinct 'name'")
        return self

    def describe(self) -> str:
        """`GET /io?ms=50`, or the mix with each request's share."""
        if len(self.requests) == 1:
            only = self.requests[0]
            return f"{only.method} {only.target}"
        total = sum(r.weight for r in self.requests)
        return ", ".join(f"{r.method} {r.target} ({r.weight / total:.0%})" for r in self.requests)
