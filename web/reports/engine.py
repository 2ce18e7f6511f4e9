"""The report engine: a registry of report definitions and providers, and rendering to HTML (Jinja2) and PDF.

A **provider** is a function ``(ReportContext) -> {name: block}`` registered under a name (``utilization``,
``outlook``…, web/reports/providers/). A **definition** names a report, its titles in English and Korean, its
period kind, its Jinja2 template and the provider that fills it. Built-in definitions come from
:mod:`web.reports.builtin`; users add templates to ``reports.template_dir`` (:mod:`web.reports.folder`), each
naming the built-in providers whose blocks it places.

Templates run in Jinja2's ``SandboxedEnvironment`` with autoescape and ``StrictUndefined`` (as web/notify's
messages): a user's template cannot reach Python objects' internals, and a misspelt block name is an error naming
it, not an empty space in a report someone receives. docs/reports.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from linewatch.choices import Language, ReportFormat, ReportPeriodKind
from linewatch.errors import LinewatchError
from web.reports.blocks import format_cell, is_block
from web.reports.period import Period, last_complete, parse_period

if TYPE_CHECKING:
    from linewatch.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSS_PATH = Path(__file__).resolve().parent / "static" / "reports" / "report.css"
USER_PREFIX = "user"  # users' templates are loaded as "user/<file>": they cannot shadow "reports/base.html"
BUILTIN_MODULE = "web.reports.builtin"

Provider = Callable[["ReportContext"], dict[str, Any]]


class ReportError(LinewatchError):
    """A report cannot be rendered: unknown name, wrong period, a provider or template failure. The message names
    the report and the reason; the CLI prints it and exits 2."""


class ReportRequestError(ReportError):
    """The request is wrong (no such report, a period of the wrong kind, an unknown language), not the data."""


class UnknownReport(ReportRequestError, LookupError):
    pass


@dataclass(frozen=True)
class ReportContext:
    """What a provider gets: the period, the language its strings must be in, the department to restrict to
    (``None``: all), linewatch's settings, the time of rendering and the zone the period's days are in."""

    period: Period
    language: str
    department: str | None
    settings: Settings
    now: dt.datetime
    tz: ZoneInfo

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.period.bounds(self.tz)

    @property
    def bounds_s(self) -> tuple[float, float]:
        return self.period.bounds_s(self.tz)

    @property
    def ko(self) -> bool:
        return self.language == Language.KO


@dataclass(frozen=True)
class ReportDefinition:
    """A report: ``name`` (``department-monthly``; the CLI's NAME and a schedule's key), ``title``
    ``{"en": …, "ko": …}``, its period kind, the Jinja2 ``template`` (``reports/builtin/x.html`` or
    ``user/x.html``) and the ``provider`` of its named blocks. ``providers``: the registered providers' names it
    draws on (shown by ``linewatch report list``); ``origin``: ``built-in`` or the user's file."""

    name: str
    title: dict[str, str]
    period_kind: ReportPeriodKind
    template: str
    provider: Provider
    providers: tuple[str, ...] = ()
    description: dict[str, str] = field(default_factory=dict)
    origin: str = "built-in"

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title.get(Language.EN) or self.name


@dataclass(frozen=True)
class Rendered:
    """One rendered report: the bytes, their media type and a file name (``name-2026-11-ko.pdf``)."""

    content: bytes
    media_type: str
    filename: str


_lock = threading.Lock()
_definitions: dict[str, ReportDefinition] = {}
_providers: dict[str, Provider] = {}
_builtin_loaded = False


def register(defn: ReportDefinition, *, replace: bool = False) -> None:
    """Add a built-in definition. A second one of the same name is an error unless ``replace``."""
    missing = {Language.EN.value, Language.KO.value} - set(defn.title)
    if missing:
        raise ValueError(f"report {defn.name}: title needs {', '.join(sorted(missing))} too")
    with _lock:
        if defn.name in _definitions and not replace:
            raise ValueError(f"report {defn.name} is registered already ({_definitions[defn.name].origin})")
        _definitions[defn.name] = defn


def unregister(name: str) -> None:
    with _lock:
        _definitions.pop(name, None)


def register_provider(name: str, provider: Provider, *, replace: bool = False) -> None:
    """Make ``provider`` available by ``name`` to users' templates (their sidecar's ``providers:``)."""
    with _lock:
        if name in _providers and not replace and _providers[name] is not provider:
            raise ValueError(f"provider {name} is registered already")
        _providers[name] = provider


def unregister_provider(name: str) -> None:
    with _lock:
        _providers.pop(name, None)


def providers() -> dict[str, Provider]:
    _load_builtin()
    return dict(_providers)


def combine(names: tuple[str, ...] | list[str]) -> Provider:
    """One provider calling the registered providers ``names`` in order: their blocks under their own names
    (``blocks.lines``) and under the provider's (``providers.utilization.lines``). The same block name from two
    providers is an error naming both (a template could not tell which it gets)."""
    names = tuple(names)

    def provide(ctx: ReportContext) -> dict[str, Any]:
        registered = providers()
        merged: dict[str, Any] = {}
        origin: dict[str, str] = {}
        by_provider: dict[str, dict[str, Any]] = {}
        for name in names:
            if name not in registered:
                raise ReportError(f"provider {name} is not registered (known: {', '.join(sorted(registered))})")
            blocks = registered[name](ctx)
            by_provider[name] = blocks
            for key, value in blocks.items():
                if key in merged:
                    raise ReportError(f"block {key} comes from providers {origin[key]} and {name}: use "
                                      f"providers.{name}.{key} in the template and list only one provider "
                                      f"whose blocks are used unqualified")
                merged[key] = value
                origin[key] = name
        return {**merged, "providers": by_provider}

    return provide


def _load_builtin() -> None:
    """Import :mod:`web.reports.builtin` once (it registers the built-in definitions and providers)."""
    global _builtin_loaded
    if _builtin_loaded:
        return
    try:
        # While the module imports, a call from inside it finds it in sys.modules: no recursion. A failure
        # (a provider's import error) is raised on every call, never half a registry that looks complete.
        importlib.import_module(BUILTIN_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != BUILTIN_MODULE:
            raise
    _builtin_loaded = True


def _settings() -> Settings:
    from django.conf import settings

    return settings.LINEWATCH


def report_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.reports.timezone)


def definitions() -> list[ReportDefinition]:
    """Built-in definitions, then the valid ones of the users' folder, by name. The folder's invalid files are
    left out here (see :func:`folder_problems`)."""
    from web.reports.folder import load_folder

    _load_builtin()
    with _lock:
        builtin = dict(_definitions)
    found = load_folder(_settings(), reserved=set(builtin))
    return sorted(builtin.values(), key=lambda d: d.name) + found.definitions


def folder_problems() -> list[str]:
    """The users' folder's invalid templates as ``file:line: reason`` lines (``linewatch report list``)."""
    from web.reports.folder import load_folder

    _load_builtin()
    with _lock:
        reserved = set(_definitions)
    return [str(p) for p in load_folder(_settings(), reserved=reserved).problems]


def get(name: str) -> ReportDefinition:
    for defn in definitions():
        if defn.name == name:
            return defn
    names = ", ".join(d.name for d in definitions()) or "none"
    raise UnknownReport(f"no report {name!r} (reports: {names}; linewatch report list)")


def resolve_period(defn: ReportDefinition, period: str | Period | None, *, now: dt.datetime,
                   tz: ZoneInfo) -> Period:
    """``period`` as text (``2026-11``, ``2026-W47``, ``last``), a Period, or ``None``/``last`` for the last
    complete period of the report's kind."""
    if period is None or (isinstance(period, str) and period.strip().lower() in ("", "last")):
        return last_complete(defn.period_kind, now, tz)
    if isinstance(period, Period):
        if period.kind != defn.period_kind:
            raise ReportRequestError(f"report {defn.name} covers a {defn.period_kind.value}, not a {period.kind.value} "
                              f"({period.key})")
        return period
    try:
        return parse_period(period, kind=defn.period_kind)
    except ValueError as exc:
        raise ReportRequestError(f"report {defn.name}: {exc}") from None


def make_context(defn: ReportDefinition, *, period: str | Period | None, language: str,
                 department: str | None = None, now: dt.datetime | None = None,
                 settings: Settings | None = None) -> ReportContext:
    lw = settings or _settings()
    if language not in (Language.EN, Language.KO):
        raise ReportRequestError(f"language {language!r}: expected en or ko")
    tz = report_tz(lw)
    when = now or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        raise ReportError("now must carry a time zone")
    return ReportContext(period=resolve_period(defn, period, now=when, tz=tz), language=str(language),
                         department=department or None, settings=lw, now=when.astimezone(tz), tz=tz)


@contextmanager
def _language(language: str) -> Iterator[None]:
    from django.utils import translation

    with translation.override(language):
        yield


def gather(defn: ReportDefinition, ctx: ReportContext) -> dict[str, Any]:
    """Call the definition's provider in the report's language; refuse anything that is not a block (or the
    ``providers`` mapping of :func:`combine`)."""
    with _language(ctx.language):
        try:
            blocks = defn.provider(ctx)
        except ReportError:
            raise
        except LinewatchError as exc:
            raise ReportError(f"report {defn.name} {ctx.period.key}: {type(exc).__name__}: {exc}") from exc
    bad = [k for k, v in blocks.items()
           if k != "providers" and not (is_block(v) or _is_block_list(v))]
    if bad:
        raise ReportError(f"report {defn.name}: provider returned non-blocks for {', '.join(sorted(bad))} "
                          f"(expected Table, Chart, Figure, Text or a list of them)")
    return blocks


def _is_block_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(is_block(v) for v in value)


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@lru_cache(maxsize=8)
def environment(template_dir: str | None) -> SandboxedEnvironment:
    """The Jinja2 environment of the built-in templates plus, as ``user/…``, the users' folder."""
    loaders: list[Any] = [FileSystemLoader(str(TEMPLATES_DIR))]
    if template_dir:
        loaders.append(PrefixLoader({USER_PREFIX: FileSystemLoader(template_dir)}))
    env = SandboxedEnvironment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = format_cell
    env.filters["svg_uri"] = _svg_uri
    env.globals["_"] = _gettext
    return env


def _gettext(message: str, **values: Any) -> str:
    """``{{ _("Lines") }}`` in templates: Django's catalogue of the active language (makemessages finds
    ``_("…")`` in templates); ``%(name)s`` placeholders filled from keyword arguments."""
    from django.utils.translation import gettext

    text = gettext(message)
    return text % values if values else text


def css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def _stylesheet(css_href: str | None) -> Markup:
    """A link to ``css_href`` (the app's pages: their Content-Security-Policy refuses inline styles), else the
    sheet embedded (a file someone opens from a mail or the archive has no server to link to)."""
    if css_href is not None:
        return Markup('<link rel="stylesheet" href="{}">').format(css_href)
    return Markup("<style>{}</style>").format(Markup(css()))


def render_page(defn: ReportDefinition, ctx: ReportContext, *, for_pdf: bool = False,
                css_href: str | None = None, blocks: dict[str, Any] | None = None) -> str:
    """The report as an HTML document. ``css_href``: link the stylesheet (the app's pages, whose
    Content-Security-Policy refuses inline styles) instead of embedding it. ``blocks``: from :func:`gather`
    already (one provider run for several pages)."""
    if blocks is None:
        blocks = gather(defn, ctx)
    lw = ctx.settings
    template_dir = str(lw.resolve(lw.reports.template_dir)) if lw.reports.template_dir else None
    env = environment(template_dir)
    title = defn.title_in(ctx.language)
    report = {
        "name": defn.name, "title": title, "language": ctx.language, "department": ctx.department,
        "period": ctx.period.label(ctx.language), "period_key": ctx.period.key,
        "generated": ctx.now.strftime("%Y-%m-%d %H:%M"), "tz": str(ctx.tz), "for_pdf": for_pdf,
    }
    with _language(ctx.language):
        try:
            template = env.get_template(defn.template)
            return template.render(report=report, blocks=blocks, providers=blocks.get("providers", {}),
                                   stylesheet=_stylesheet(css_href))
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{defn.template}:{line}" if line else defn.template
            raise ReportError(f"report {defn.name}: template {where}: {type(exc).__name__}: {exc}") from exc


def render_html(name: str, *, period: str | Period | None, language: str, department: str | None = None,
                now: dt.datetime | None = None, css_href: str | None = None) -> str:
    defn = get(name)
    ctx = make_context(defn, period=period, language=language, department=department, now=now)
    return render_page(defn, ctx, css_href=css_href)


def render_pdf(name: str, *, period: str | Period | None, language: str, department: str | None = None,
               now: dt.datetime | None = None) -> bytes:
    from web.reports.pdf import html_to_pdf

    defn = get(name)
    ctx = make_context(defn, period=period, language=language, department=department, now=now)
    return html_to_pdf(render_page(defn, ctx, for_pdf=True))


def render(name: str, *, fmt: ReportFormat | str, period: str | Period | None, language: str,
           department: str | None = None, now: dt.datetime | None = None) -> Rendered:
    """Render ``name`` as ``fmt`` (what schedules and the CLI keep as files)."""
    fmt = ReportFormat(fmt)
    return render_formats(name, formats=(fmt,), period=period, language=language, department=department,
                          now=now)[fmt]


def render_formats(name: str, *, formats: tuple[ReportFormat | str, ...] = (ReportFormat.HTML, ReportFormat.PDF),
                   period: str | Period | None, language: str, department: str | None = None,
                   now: dt.datetime | None = None) -> dict[ReportFormat, Rendered]:
    """The report in each of ``formats`` from one provider run (a schedule keeps HTML and PDF; the demo both
    languages): the data is read once, so the files agree with each other."""
    from web.reports.pdf import html_to_pdf

    defn = get(name)
    ctx = make_context(defn, period=period, language=language, department=department, now=now)
    blocks = gather(defn, ctx)
    out: dict[ReportFormat, Rendered] = {}
    for fmt in map(ReportFormat, formats):
        page = render_page(defn, ctx, for_pdf=fmt == ReportFormat.PDF, blocks=blocks)
        file = filename(defn.name, ctx.period, language=ctx.language, department=ctx.department, fmt=fmt)
        out[fmt] = (Rendered(html_to_pdf(page), "application/pdf", file) if fmt == ReportFormat.PDF
                    else Rendered(page.encode("utf-8"), "text/html; charset=utf-8", file))
    return out


def output_dir(settings: Settings) -> Path:
    """Where rendered and sent reports are kept: ``reports.output_dir``, else ``state_dir/reports``."""
    if settings.reports.output_dir:
        return settings.resolve(settings.reports.output_dir)
    return settings.resolve(settings.state_dir) / "reports"


def filename(name: str, period: Period, *, language: str, department: str | None, fmt: ReportFormat | str) -> str:
    """``department-monthly-2026-11-engineering-ko.pdf``: safe for any file system and mail client."""
    parts = [name, period.key]
    if department:
        parts.append(_slug(department))
    parts.append(language)
    return "-".join(parts) + "." + ReportFormat(fmt).value


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text.strip())
    return "-".join(p for p in out.split("-") if p) or "all"

