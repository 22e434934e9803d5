"""The database behind `/db` and `/queries` (`database:`); a stored DSN has its password masked."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_serializer, model_validator

from runner.config.experiment.base import Strict
from runner.config.secrets import redact_text

__all__ = ["Database"]


class Database(Strict):
    """The database behind `/db` and `/queries`."""

    engine: Literal["sqlite", "postgresql"] = Field(
        default="sqlite",
        description="sqlite: a file the runner creates and seeds in the run directory; "
        "postgresql: the database at `dsn`.",
    )
    dsn: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user@host:5432/db). Stored with its password "
        "masked; prefer PGPASSWORD or ${oc.env:VAR} to keep it out of files.",
    )

    @model_validator(mode="after")
    def _dsn_fits_engine(self) -> Database:
        if self.engine == "postgresql" and self.dsn is None:
            raise ValueError("engine 'postgresql' needs a 'dsn' (postgresql://user@host/db)")
        if self.engine == "sqlite" and self.dsn is not None:
            raise ValueError("'dsn' is for engine 'postgresql'; SQLite needs none")
        if self.dsn is not None and urlsplit(self.dsn.get_secret_value()).scheme not in (
            "postgresql",
            "postgres",
        ):
            raise ValueError("'dsn' must be a URL starting with postgresql://")
        return self

    @field_serializer("dsn")
    def _masked(self, dsn: SecretStr | None) -> str | None:
        return redact_text(dsn.get_secret_value()) if dsn is not None else None
