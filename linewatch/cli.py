"""The ``linewatch`` command line: parse, call the library, print. Errors are caught here, at the edge."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from linewatch import __version__
from linewatch.choices import ExitCode
from linewatch.errors import ConfigError, LinewatchError
from linewatch.plugins import import_module

# Each area adds its subcommands through a module with ``register(subparsers)``.
SUBCOMMAND_MODULES = [
    "collector.cli",
    "linewatch.demo",
    "alerting.cli",
    "billing_etl.cli",
    "collector.flows.cli",
    "collector.voice.cli",
    "linewatch.dashboards",
    "web.cli",
]

log = logging.getLogger("linewatch")


def _check_config(args: argparse.Namespace) -> int:
    from linewatch.configcheck import check_all
    from linewatch.settings import load_settings

    notes: list[str] = []
    problems = check_all(args.config, notes=notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    if args.show:
        print(json.dumps(load_settings(args.config).redacted(), indent=2, default=str))
    print("configuration OK")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linewatch", description="Monitor, alert on and audit carrier lines.")
    parser.add_argument("--version", action="version", version=f"linewatch {__version__}")
    parser.add_argument("-c", "--config", help="settings file (default: $LINEWATCH_CONFIG or config/linewatch.yaml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser("check-config", help="validate every configuration file and exit")
    check.add_argument("--show", action="store_true", help="print the effective settings (secrets masked)")
    check.set_defaults(func=_check_config)
    for name in SUBCOMMAND_MODULES:
        module = import_module(name, optional=True)
        if module is not None:
            module.register(sub)
    return parser


def setup_logging(verbosity: int) -> None:
    """Log to stderr (-v: INFO, -vv: DEBUG) through the secret filter: configured secrets and the URL paths that
    HTTP libraries log (a Slack webhook path is a password) are masked (docs/security.md)."""
    from linewatch.logfilter import install

    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args) or ExitCode.OK)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    except LinewatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.RUNTIME_ERROR
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
