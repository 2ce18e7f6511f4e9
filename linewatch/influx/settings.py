"""Settings of the InfluxDB v1-HTTP-API client, the batching writer and its disk spool."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from linewatch.logfilter import register_secret
from linewatch.urls import UrlHasUserInfo, check_http_url

MIB = 1024 * 1024


class SpoolSettings(BaseModel):
    """Where write batches wait on disk while InfluxDB is unreachable, and how much they may take."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Path("var/spool")
    max_bytes: int = Field(default=256 * MIB, gt=0)


class InfluxSettings(BaseModel):
    """How to reach InfluxDB (1.x, or 2.x/3.x through their v1-compatible API) and how to write to it."""

    model_config = ConfigDict(extra="forbid")

    url: str = "http://127.0.0.1:8086"
    database: str = Field(default="linewatch", min_length=1)
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    batch_size: int = Field(default=5000, gt=0)
    gzip: bool = True
    create_database: bool = True
    max_attempts: int = Field(default=5, gt=0)
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_retry_s: float = Field(default=60.0, ge=0)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        try:
            return check_http_url(value)
        except UrlHasUserInfo as exc:  # the message never echoes the URL: what sits before the @ is a password
            raise ValueError(f"{exc}: set influx.username and influx.password (InfluxDB 1.x) or influx.token "
                             "(2.x/3.x) instead") from None

    @model_validator(mode="after")
    def _auth_is_consistent(self) -> InfluxSettings:
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not: set username too, or remove password")
        if self.token is not None and self.username is not None:
            raise ValueError(
                "token and username are exclusive: use token for InfluxDB 2.x/3.x, username/password for 1.x"
            )
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        for secret in (self.password, self.token):
            if secret is not None:
                register_secret(secret.get_secret_value())
        return self
