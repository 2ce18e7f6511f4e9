"""``linewatch report …``: render any report for any period, list the reports (registered by web/cli.py).

``linewatch report render NAME --period 2026-11 --format pdf --language ko [--department D] [-o FILE]`` writes
the file (default: ``reports.output_dir/<name>-<period>[-<department>]-<language>.<format>``, ``-o -``: standard
output) and prints its path. Exit 2 for a wrong request (no such report, a week for a monthly report), 1 when
rendering fails (a provider's data source, a template error), docs/reports.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from linewatch.choices import ExitCode, Language, ReportFormat


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="reports: render one (HTML or PDF, Korean or English), list them")
    p.add_argument("--production", action="store_true", help="production settings (docs/web.md)")
    report_sub = p.add_subparsers(dest="report_command", required=True, metavar="REPORT_COMMAND")
    r = report_sub.add_parser("render", help="render report NAME for a period to a file")
    r.add_argument("name", help="the report's name (linewatch report list)")
    r.add_argument("--period", default="last",
                   help="2026-11 (a month), 2026-W47 (an ISO week) or last (the last complete one; default)")
    r.add_argument("--format", dest="fmt", choices=[f.value for f in ReportFormat], default=ReportFormat.PDF.value)
    r.add_argument("--language", choices=[x.value for x in Language], default=Language.EN.value)
    r.add_argument("--department", default=None, help="only this department's lines (default: all)")
    r.add_argument("-o", "--output", default=None,
                   help="file to write (default: under reports.output_dir; - for standard output)")
    r.set_defaults(func=_render)
    lst = report_sub.add_parser("list", help="the reports (built-in and the template folder's) and the folder's "
                                             "invalid templates")
    lst.add_argument("--json", action="store_true", help="machine-readable")
    lst.set_defaults(func=_list)


def _setup(args: argparse.Namespace) -> None:
    from web.cli import _setup_django

    _setup_django(args)


def _render(args: argparse.Namespace) -> int:
    _setup(args)
    from django.conf import settings

    from linewatch.fileperms import ensure_private_dir, write_private
    from web.reports.engine import ReportRequestError, output_dir, render

    try:
        rendered = render(args.name, fmt=args.fmt, period=args.period, language=args.language,
                          department=args.department)
    except ReportRequestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    if args.output == "-":
        sys.stdout.buffer.write(rendered.content)
        sys.stdout.flush()
        return ExitCode.OK
    if args.output:
        target = Path(args.output)
        if target.is_dir():
            target = target / rendered.filename
    else:
        target = ensure_private_dir(output_dir(settings.LINEWATCH)) / rendered.filename
    # Reports carry costs and findings: written 0600 like the rest of linewatch's state (docs/security.md).
    write_private(target, rendered.content)
    print(target)
    return ExitCode.OK


def _list(args: argparse.Namespace) -> int:
    _setup(args)
    from web.reports.engine import definitions, folder_problems

    defs = definitions()
    problems = folder_problems()
    if args.json:
        print(json.dumps({
            "reports": [{"name": d.name, "title": d.title, "period": d.period_kind.value, "template": d.template,
                         "providers": list(d.providers), "origin": d.origin} for d in defs],
            "problems": problems,
        }, ensure_ascii=False, indent=2))
    else:
        width = max((len(d.name) for d in defs), default=4)
        for d in defs:
            origin = "" if d.origin == "built-in" else f"  [{d.origin}]"
            print(f"{d.name:<{width}}  {d.period_kind.value:<5}  {d.title_in('en')} / {d.title_in('ko')}{origin}")
        if not defs:
            print("no reports")
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
    return ExitCode.INPUT_REJECTED if problems else ExitCode.OK
