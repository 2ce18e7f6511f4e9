"""The reports' part of ``linewatch demo``: last month's monthly reports under ``<run dir>/reports/``, two schedules.

* ``demo_stage`` (a ``DEMO_STAGES`` entry): waits until this run's billing stage has billed last month and the
  trends job behind it has written the capacity outlook (the reports show both), then runs
  ``python -m web.reports.demo --run-dir RUN`` in a subprocess with the application's settings (Django is
  configured there, as for ``web.demo finance``).
* that subprocess seeds two report schedules (:data:`DEMO_SCHEDULES`; the application's worker delivers last month
  through the outbox, exactly once) and renders every monthly report for the last complete month, in English and
  Korean, as HTML and PDF: each report for all departments, and the department report once per department.

A report that fails to render is reported by name and the others are still written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.choices import Language, ReportFormat, ReportPeriodKind

log = logging.getLogger("linewatch.demo")

REPORTS_FOLDER = "reports"  # <run dir>/reports
DEPARTMENT_REPORT = "department-monthly"
WAIT_S = 900.0  # the billing stage measures a month of usage, renders PDFs, then runs the trends job
LANGUAGES = (Language.EN.value, Language.KO.value)
FORMATS = (ReportFormat.HTML, ReportFormat.PDF)


@dataclass(frozen=True)
class DemoSchedule:
    name: str
    report: str
    language: str
    department: str | None
    recipients: tuple[dict[str, Any], ...]


DEMO_SCHEDULES = (
    # The growing line's department: its head reads Korean (the NOC mailbox of alerts.yaml stands in for them).
    DemoSchedule("Engineering monthly (ko)", DEPARTMENT_REPORT, Language.KO.value, "Engineering",
                 ({"receiver": "noc-mailbox"},)),
    DemoSchedule("Finance monthly", "finance-monthly", Language.EN.value, None, ({"receiver": "finance-mailbox"},)),
)


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


# -- in the demo process --------------------------------------------------------------------------------------


def _outlook_written_since(ctx: Any, started_s: float) -> bool:
    """Whether this run's trends job has written a ``line_outlook`` point (the billing stage runs it last)."""
    from linewatch.errors import LinewatchError
    from linewatch.trends.outlook import read_outlook

    try:
        outlook = read_outlook(ctx.influx)
    except LinewatchError:
        return False
    if outlook.empty:
        return False
    latest = outlook["time"].max()
    return bool(latest.timestamp() >= started_s - 1)


def _billing_export(ctx: Any) -> Path:
    from billing_etl.model import Period

    period = Period.containing(dt.datetime.now(dt.UTC).date()).previous()
    return Path(ctx.run_dir) / "exports" / f"billing-{period}.xlsx"


def demo_stage(ctx: Any) -> None:
    """Once this run's billing stage and trends job are done, render the reports in a subprocess (see above)."""
    from web.demo import _django_env, stop_app

    started = time.time()
    export = _billing_export(ctx)
    deadline = time.monotonic() + WAIT_S
    while not (export.exists() and export.stat().st_mtime >= started - 1 and _outlook_written_since(ctx, started)):
        if ctx.stop_event.wait(2.0):
            return
        if time.monotonic() > deadline:
            say(f"reports: the billing stage wrote no {export.name} and outlook; the demo reports were not rendered")
            return
    proc = subprocess.Popen([sys.executable, "-m", "web.reports.demo", "--run-dir", str(ctx.run_dir)],
                            env=_django_env(ctx))
    while proc.poll() is None:
        if ctx.stop_event.wait(1.0):  # the demo ends: so does the rendering
            stop_app(proc)
            return
    if proc.returncode != 0:
        say(f"reports: rendering the demo reports failed (exit status {proc.returncode}, see above)")


# -- in the subprocess (Django configured) --------------------------------------------------------------------


@dataclass
class DemoReports:
    """What :func:`run` did: the files written, the schedules created, the reports that failed and why."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    schedules_created: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0


def seed_schedules() -> int:
    """The :data:`DEMO_SCHEDULES` that do not exist yet (by name), validated like the application's form; how many
    were created. A later demo on the same run folder keeps the ones there (and whatever was changed in them)."""
    from web.audit.context import change_context
    from web.inventory.models import Department
    from web.reports.models import ReportSchedule

    made = 0
    with change_context(user_name="demo"):
        for spec in DEMO_SCHEDULES:
            if ReportSchedule.objects.filter(name=spec.name).exists():
                continue
            department = Department.objects.get(name=spec.department) if spec.department else None
            schedule = ReportSchedule(name=spec.name, report=spec.report, period_kind=ReportPeriodKind.MONTH.value,
                                      language=spec.language, department=department,
                                      recipients=[dict(r) for r in spec.recipients])
            schedule.full_clean()
            schedule.save()
            made += 1
    return made


def _requests(departments: list[str]) -> list[tuple[str, str | None]]:
    """(report, department) of every monthly report for all departments, and the department report per
    department."""
    from web.reports import engine

    monthly = [d.name for d in engine.definitions() if d.period_kind is ReportPeriodKind.MONTH]
    out: list[tuple[str, str | None]] = [(name, None) for name in monthly]
    if DEPARTMENT_REPORT in monthly:
        out += [(DEPARTMENT_REPORT, department) for department in departments]
    return out


def render_reports(folder: Path, *, departments: list[str], now: dt.datetime | None = None) -> DemoReports:
    """Render every request of :func:`_requests` for the last complete month into ``folder`` (both languages, HTML
    and PDF from one provider run each); a failing report is recorded in ``failed`` and the others go on."""
    from linewatch.errors import LinewatchError
    from web.reports import engine

    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    result = DemoReports(folder)
    for name, department in _requests(departments):
        for language in LANGUAGES:
            key = f"{name} {language}" + (f" ({department})" if department else "")
            try:
                rendered = engine.render_formats(name, formats=FORMATS, period=None, language=language,
                                                 department=department, now=now)
            except (LinewatchError, OSError, ValueError) as exc:
                log.exception("demo report %s failed", key)
                result.failed[key] = f"{type(exc).__name__}: {exc}"
                continue
            for item in rendered.values():
                path = folder / item.filename
                path.write_bytes(item.content)
                result.written.append(path)
    result.elapsed_s = time.monotonic() - started
    return result


def run(run_dir: Path, *, now: dt.datetime | None = None) -> DemoReports:
    """Seed the schedules, then render the reports into ``<run_dir>/reports``."""
    from web.inventory.models import Department

    made = seed_schedules()
    departments = sorted(Department.objects.values_list("name", flat=True))
    result = render_reports(Path(run_dir) / REPORTS_FOLDER, departments=departments, now=now)
    result.schedules_created = made
    return result


def summary(result: DemoReports) -> list[str]:
    pdfs = sorted(p.name for p in result.written if p.suffix == ".pdf")
    first = pdfs[0] if pdfs else "-"
    lines = [f"reports: {len(result.written)} files ({len(pdfs)} PDF) of last month's reports in {result.folder}/ "
             + f"in {result.elapsed_s:.0f} s, e.g. {first}"]
    if result.schedules_created:
        lines.append(f"reports: {result.schedules_created} report schedules created ("
                     + ", ".join(s.name for s in DEMO_SCHEDULES)
                     + "); the worker delivers last month through the outbox, once")
    lines += [f"reports: {key} not rendered: {why}" for key, why in result.failed.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m web.reports.demo")
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()
    result = run(args.run_dir.resolve())
    for line in summary(result):
        say(line)
    return 1 if result.failed and not result.written else 0


if __name__ == "__main__":
    sys.exit(main())
