"""``linewatch alerts …``: run the evaluator, evaluate once, test a receiver, silence, acknowledge, list."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import re
import signal
import sys
import threading
import time
from typing import Any

from linewatch.choices import ExitCode
from linewatch.errors import ConfigError, DeliveryError, Problem

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration_s(text: str) -> float:
    """``90s``, ``30m``, ``2h``, ``1d``, ``1w`` → seconds."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use a number and s, m, h, d or w (e.g. 2h)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _time(t_s: float | None) -> str:
    if t_s is None:
        return "-"
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _service(args: argparse.Namespace) -> Any:
    from alerting.service import AlertService
    from linewatch.settings import load_settings

    return AlertService.from_settings(load_settings(args.config))


def _run(args: argparse.Namespace) -> int:
    service = _service(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"alert evaluator running (every {service.config.evaluation_interval_s:g} s, state in "
          f"{service.store.path}); Ctrl-C stops", file=sys.stderr)
    try:
        service.run(stop)
    finally:
        service.close()
    return ExitCode.OK


def _print_evaluation(report: Any, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{f: getattr(row, f) for f in row.__slots__} for row in report.rows], default=str))
        return
    print(f"evaluation at {_time(report.now_s)} UTC")
    print(f"{'RULE':<20} {'SUBJECT':<20} {'STATE':<9} {'SEVERITY':<9} {'VALUE':>9}  SINCE (UTC)")
    for row in report.rows:
        value = "-" if row.value is None else f"{row.value:.2f}"
        print(f"{row.rule:<20} {row.subject:<20} {row.state:<9} {row.severity or '-':<9} {value:>9}  "
              f"{_time(row.since_s)}")
    for rule, error in report.rule_errors.items():
        print(f"error: rule {rule}: {error}", file=sys.stderr)


def _evaluate(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        while True:
            report = service.evaluate(report_rows=True)
            if not args.no_notify:
                service.flush(report.now_s)
                service.dispatch(report.now_s)
            _print_evaluation(report, as_json=args.json)
            if args.once:
                return ExitCode.RUNTIME_ERROR if report.rule_errors else ExitCode.OK
            time.sleep(service.config.evaluation_interval_s)
    finally:
        service.close()


def _test_notify(args: argparse.Namespace) -> int:
    from alerting.config import load_alerts
    from alerting.receivers import build_senders
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    config = load_alerts(settings.resolve(settings.alerts_path))
    senders = build_senders(config.receivers)
    if args.receiver not in senders:
        raise ConfigError([Problem(str(settings.resolve(settings.alerts_path)), None, "receivers",
                                   f"no receiver named {args.receiver!r} (defined: {', '.join(sorted(senders))})")])
    now = time.time()
    payload = {
        "receiver": args.receiver, "group_key": "test", "group_labels": {"rule": "test"}, "reason": "test-notify",
        "created_s": now, "resolved": [],
        "firing": [{"id": 0, "key": "test/TEST-LINE-1", "rule": "test", "kind": "utilization", "state": "firing",
                    "severity": "warning", "since_s": int(now) - 300, "changed_s": int(now), "value": 85.0,
                    "labels": {"line": "TEST-LINE-1", "carrier": "Example Carrier", "department": "Test",
                               "site": "Test", "device": "test-router", "scope": "line", "rule": "test"},
                    "info": {"circuit_id": "TEST-0001", "capacity_bps": 100_000_000, "warning": 80.0, "for_s": 300,
                             "interface": "ge-0/0/0", "grafana_url": settings.grafana.base_url}}],
    }
    try:
        senders[args.receiver].send(payload, message_id=f"test.{int(now)}")
    except DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.RUNTIME_ERROR
    print(f"test notification delivered to {args.receiver}")
    return ExitCode.OK


def _open_store(args: argparse.Namespace) -> Any:
    from alerting.config import load_alerts, state_file
    from alerting.store import AlertStore
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    config = load_alerts(settings.resolve(settings.alerts_path))
    return AlertStore(state_file(settings, config))


def _silence_add(args: argparse.Namespace) -> int:
    from alerting.matchers import parse_matcher

    for m in args.match:
        try:
            parse_matcher(m)
        except ValueError as exc:
            print(f"error: --match: {exc}", file=sys.stderr)
            return ExitCode.CONFIG_ERROR
    now = time.time()
    with _open_store(args) as store:
        silence = store.add_silence(matchers=args.match, starts_s=now, ends_s=now + args.duration,
                                    reason=args.reason, created_by=args.by, now_s=now)
    print(f"silence {silence.id} until {_time(silence.ends_s)} UTC: {', '.join(silence.matchers)}")
    return ExitCode.OK


def _silence_list(args: argparse.Namespace) -> int:
    now = time.time()
    with _open_store(args) as store:
        silences = store.silences() if args.all else store.silences(active_at=now)
    print(f"{'ID':>4}  {'ENDS (UTC)':<19}  {'BY':<12} MATCHERS / REASON")
    for s in silences:
        state = "" if s.active_at(now) else " (expired)"
        print(f"{s.id:>4}  {_time(s.ends_s):<19}  {s.created_by:<12} {', '.join(s.matchers)} — {s.reason}{state}")
    return ExitCode.OK


def _silence_expire(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        store.expire_silence(args.id, now_s=time.time())
    print(f"silence {args.id} expired")
    return ExitCode.OK


def _list(args: argparse.Namespace) -> int:
    from linewatch.choices import AlertState

    with _open_store(args) as store:
        alerts = store.alerts()
        outbox = store.messages() if args.outbox else []
    print(f"{'ID':>4}  {'STATE':<9} {'SEVERITY':<9} {'RULE':<20} {'SUBJECT':<20} {'SINCE (UTC)':<19}  ACK")
    for a in alerts.values():
        if not args.all and a.status.state is AlertState.RESOLVED:
            continue
        ack = f"by {a.acked_by}" if a.acked_s else ""
        print(f"{a.id:>4}  {a.status.state.value:<9} {a.status.severity.value:<9} {a.rule:<20} {a.subject:<20} "
              f"{_time(a.status.since_s):<19}  {ack}")
    if args.outbox:
        print(f"\n{'MSG':>5}  {'RECEIVER':<20} {'STATUS':<10} {'TRIES':>5}  LAST ERROR")
        for m in outbox:
            print(f"{m.id:>5}  {m.receiver:<20} {m.status.value:<10} {m.attempts:>5}  {m.last_error or ''}")
    return ExitCode.OK


def _ack(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        alert = store.acknowledge(args.id, by=args.by, comment=args.comment, now_s=time.time())
    print(f"alert {alert.id} ({alert.key}) acknowledged: no repeats until it changes state")
    return ExitCode.OK


def register(subparsers: Any) -> None:
    alerts = subparsers.add_parser("alerts", help="alert evaluator: run, evaluate, test-notify, silence, ack, list")
    sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")

    p = sub.add_parser("run", help="evaluate and notify until stopped (apscheduler)")
    p.set_defaults(func=_run)

    p = sub.add_parser("evaluate", help="evaluate every rule and print the state of every rule and line")
    p.add_argument("--once", action="store_true", help="one evaluation, then exit (exit 1 if a query failed)")
    p.add_argument("--no-notify", action="store_true", help="store states but do not queue or send notifications")
    p.add_argument("--json", action="store_true", help="print rows as JSON")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("test-notify", help="send a test notification to RECEIVER now (bypasses the outbox)")
    p.add_argument("receiver")
    p.set_defaults(func=_test_notify)

    p = sub.add_parser("silence", help="mute matching alerts for a while")
    ssub = p.add_subparsers(dest="silence_command", required=True, metavar="ACTION")
    s = ssub.add_parser("add", help="add a silence")
    s.add_argument("--match", action="append", required=True, metavar="MATCHER",
                   help='label matcher, e.g. line="FRA-MPLS-1" or site=~"Par.*" (repeat: all must match)')
    s.add_argument("--duration", type=parse_duration_s, required=True, help="how long, e.g. 2h, 30m, 1d")
    s.add_argument("--reason", required=True, help="why (shown in `silence list`)")
    s.add_argument("--by", default=getpass.getuser(), help="who (default: the current user)")
    s.set_defaults(func=_silence_add)
    s = ssub.add_parser("list", help="list active silences")
    s.add_argument("--all", action="store_true", help="include expired silences")
    s.set_defaults(func=_silence_list)
    s = ssub.add_parser("expire", help="end a silence now")
    s.add_argument("id", type=int)
    s.set_defaults(func=_silence_expire)

    p = sub.add_parser("list", help="list pending and firing alerts")
    p.add_argument("--all", action="store_true", help="include resolved alerts")
    p.add_argument("--outbox", action="store_true", help="also list the notification outbox")
    p.set_defaults(func=_list)

    p = sub.add_parser("ack", help="acknowledge a firing alert: no repeats until it changes state")
    p.add_argument("id", type=int)
    p.add_argument("--comment", default="")
    p.add_argument("--by", default=getpass.getuser())
    p.set_defaults(func=_ack)

