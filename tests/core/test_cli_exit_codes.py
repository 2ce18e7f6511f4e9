"""`linewatch` exits with the documented `ExitCode` of what went wrong, caught at the edge (CLI logic)."""

from __future__ import annotations

import argparse

import pytest

from linewatch import cli
from linewatch.choices import ExitCode
from linewatch.errors import ConfigError, LinewatchError, Problem


def _raise(exc: BaseException):
    def command(args: argparse.Namespace) -> int:
        raise exc

    return command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(lambda args: None, ExitCode.OK, id="nothing-returned-is-ok"),
        pytest.param(
            lambda args: ExitCode.INPUT_REJECTED, ExitCode.INPUT_REJECTED, id="command-status-passed-on"
        ),
        pytest.param(
            _raise(ConfigError([Problem("lines.yaml", 3, "lines", "bad")])),
            ExitCode.CONFIG_ERROR,
            id="config-error",
        ),
        pytest.param(_raise(LinewatchError("influx down")), ExitCode.RUNTIME_ERROR, id="runtime-error"),
        pytest.param(_raise(KeyboardInterrupt()), ExitCode.INTERRUPTED, id="ctrl-c"),
    ],
)
def test_cli_exit_status_is_the_documented_exit_code(
    monkeypatch: pytest.MonkeyPatch, command, expected: ExitCode
) -> None:
    monkeypatch.setattr(cli, "_check_config", command)
    assert cli.main(["check-config"]) == expected
