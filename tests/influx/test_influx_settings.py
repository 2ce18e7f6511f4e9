"""InfluxSettings / SpoolSettings validation and secret hiding."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from linewatch.influx import InfluxSettings, SpoolSettings


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"url": "https://influx.example:8086/"}, id="https-trailing-slash"),
        pytest.param({"username": "lw", "password": "pw"}, id="basic-auth"),
        pytest.param({"username": "lw"}, id="username-without-password"),
        pytest.param({"token": "tok"}, id="token"),
        pytest.param({"spool": {"path": "/tmp/x", "max_bytes": 1}}, id="spool"),
    ],
)
def test_valid_settings_are_accepted(kwargs: dict) -> None:
    settings = InfluxSettings(**kwargs)
    assert not settings.url.endswith("/")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"url": "ftp://host"}, "http:// or https://", id="bad-scheme"),
        pytest.param({"url": "127.0.0.1:8086"}, "http:// or https://", id="no-scheme"),
        pytest.param({"password": "pw"}, "password is set but username is not", id="password-without-user"),
        pytest.param(
            {"username": "u", "token": "t"}, "token and username are exclusive", id="token-and-user"
        ),
        pytest.param({"timeout_s": 0}, "greater than 0", id="zero-timeout"),
        pytest.param({"batch_size": 0}, "greater than 0", id="zero-batch"),
        pytest.param({"spool": {"max_bytes": 0}}, "greater than 0", id="zero-spool"),
        pytest.param({"databse": "x"}, "Extra inputs are not permitted", id="typo-key"),
        pytest.param({"spool": {"pth": "x"}}, "Extra inputs are not permitted", id="typo-spool-key"),
        pytest.param(
            {"backoff_initial_s": 5, "backoff_max_s": 1}, "backoff_max_s", id="backoff-max-below-initial"
        ),
    ],
)
def test_invalid_settings_fail_with_a_message_saying_why(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InfluxSettings(**kwargs)


def test_spool_defaults_are_not_shared_between_instances() -> None:
    assert InfluxSettings().spool is not InfluxSettings().spool
    assert SpoolSettings().max_bytes == 256 * 1024 * 1024


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"username": "lw", "password": "hunter2-secret"}, id="password"),
        pytest.param({"token": "hunter2-secret"}, id="token"),
    ],
)
def test_secrets_never_appear_in_dumps_repr_or_str(kwargs: dict) -> None:
    settings = InfluxSettings(**kwargs)
    for text in (settings.model_dump_json(), repr(settings), str(settings), str(settings.model_dump())):
        assert "hunter2-secret" not in text
