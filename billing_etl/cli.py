"""``linewatch etl ...``: a thin layer over :mod:`billing_etl.run` (parse, call, print)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billing_etl.model import Period
from linewatch.choices import ExitCode, Language


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


EXIT_STATUS = (
    f"exit status: {ExitCode.OK} done; {ExitCode.RUNTIME_ERROR} InfluxDB or another runtime error; "
    f"{ExitCode.CONFIG_ERROR} configuration error; {ExitCode.INPUT_REJECTED} done, but an invoice file was "
    "rejected (see the summary)"
)


def _exit_code(file_errors: list[str]) -> int:
    """``ExitCode.INPUT_REJECTED`` (3) when an invoice file was rejected, so a scheduler notices; the rest of
    the run (the other files, audit, exports) still happened. docs/billing.md lists the codes."""
    return ExitCode.INPUT_REJECTED if file_errors else ExitCode.OK


def _run(args: argparse.Namespace) -> int:
    from billing_etl.run import run_period, summary_text
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    report = run_period(
        settings,
        args.period,
        invoice_dir=args.invoices,
        out_dir=args.out,
        write_influx=not args.no_influx,
        formats=formats,
        progress_enabled=args.progress,
        language=args.language,
    )
    print(summary_text(report))
    return _exit_code(report.imports.file_errors)


def _import(args: argparse.Namespace) -> int:
    from billing_etl.config import load_billing_config
    from billing_etl.importer import write_quarantine
    from billing_etl.run import STORE_NAME, find_invoice_files, import_invoices
    from billing_etl.store import InvoiceStore
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    config = load_billing_config(settings)
    files = find_invoice_files(config, args.invoices)
    with InvoiceStore(settings.resolve(settings.state_dir) / STORE_NAME) as store:
        summary = import_invoices(config, store, files=files)
    print(
        f"{summary.files} file(s): {summary.new_invoices} new, {summary.unchanged_invoices} unchanged, "
        f"{summary.conflicting_invoices} conflicting invoice(s); {summary.good_rows} row(s) loaded, "
        f"{summary.bad_rows} quarantined"
    )
    if summary.completed_invoices:
        print(
            f"{summary.completed_invoices} invoice(s) completed: a corrected file replaced an import that had "
            "quarantined rows"
        )
    for err in summary.file_errors:
        print(f"rejected: {err}")
    if summary.quarantined:
        path = args.quarantine or settings.resolve(settings.state_dir) / "billing-quarantine.csv"
        write_quarantine(
            summary.quarantined, path, mode=settings.export_mode, language=settings.export_language
        )
        print(f"quarantined rows: {path}")
    return _exit_code(summary.file_errors)


def _trends_run(args: argparse.Namespace) -> int:
    import json

    from billing_etl.trends import run_trends
    from linewatch.influx import InfluxClient
    from linewatch.inventory_source import load_configured_inventory
    from linewatch.settings import load_settings

    settings = load_settings(args.config)
    inventory = load_configured_inventory(settings)
    with InfluxClient(settings.influx) as client:
        try:
            report = run_trends(settings, inventory, client, lines=args.line or None)
        except ValueError as exc:  # a --line that is not a polled line
            print(f"error: {exc}", file=sys.stderr)
            return ExitCode.CONFIG_ERROR
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print(report.summary_text())
    return ExitCode.OK


def _trends_outlook(args: argparse.Namespace) -> int:
    import json

    from billing_etl.trends import outlook_records, outlook_text
    from linewatch.influx import InfluxClient
    from linewatch.settings import load_settings
    from linewatch.trends.outlook import read_outlook

    settings = load_settings(args.config)
    with InfluxClient(settings.influx) as client:
        frame = read_outlook(client, lines=args.line or None)
    if args.json:
        print(json.dumps(outlook_records(frame), indent=2, ensure_ascii=False))
    else:
        print(outlook_text(frame, language=args.language or settings.export_language or Language.EN))
    return ExitCode.OK


def _register_trends(subparsers: argparse._SubParsersAction) -> None:
    trends = subparsers.add_parser(
        "trends", help="daily trends, capacity forecasts and projected bills per line (docs/trends.md)"
    )
    sub = trends.add_subparsers(dest="trends_command", required=True, metavar="ACTION")
    run = sub.add_parser(
        "run",
        help="compute the new days' 95th percentile and busy hour, forecast every line, project the bills of "
        "burstable and quota lines, write line_trend/line_forecast/line_outlook",
    )
    run.add_argument("--line", action="append", metavar="NAME", help="only this line (repeatable)")
    run.add_argument("--json", action="store_true", help="the run's report as JSON")
    run.set_defaults(func=_trends_run)
    outlook = sub.add_parser("outlook", help="the capacity outlook: lines sorted by days left until 80 %%")
    outlook.add_argument("--line", action="append", metavar="NAME", help="only this line (repeatable)")
    outlook.add_argument("--json", action="store_true", help="one JSON object per line")
    outlook.add_argument(
        "--language",
        choices=[lang.value for lang in Language],
        help="language of the table (default: export_language of the settings, en)",
    )
    outlook.set_defaults(func=_trends_outlook)


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_trends(subparsers)
    etl = subparsers.add_parser("etl", help="billing ETL: import invoices, audit them against usage, export")
    sub = etl.add_subparsers(dest="etl_command", required=True, metavar="ACTION")
    run = sub.add_parser(
        "run",
        help="import new invoices, measure usage, audit and export one billing period",
        epilog=EXIT_STATUS,
    )
    run.add_argument("--period", required=True, type=_period, help="billing period YYYY-MM")
    run.add_argument("--invoices", type=Path, help="invoice folder (default: invoice_dir of carriers.yaml)")
    run.add_argument("--out", type=Path, help="export folder (default: <state_dir>/exports)")
    run.add_argument("--formats", default="csv,xlsx,parquet", help="comma-separated: csv, xlsx, parquet")
    run.add_argument(
        "--no-influx", action="store_true", help="do not write line_cost/billing_findings points"
    )
    run.add_argument(
        "--language",
        choices=[lang.value for lang in Language],
        help="language of the CSV/XLSX headers and sheet names (default: export_language of the settings, en)",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    run.set_defaults(func=_run)
    imp = sub.add_parser(
        "import", help="import the configured invoice files into the store only", epilog=EXIT_STATUS
    )
    imp.add_argument("--invoices", type=Path, help="invoice folder (default: invoice_dir of carriers.yaml)")
    imp.add_argument("--quarantine", type=Path, help="where to write quarantined rows (CSV)")
    imp.set_defaults(func=_import)
