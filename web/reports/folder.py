"""Users' report templates: ``reports.template_dir`` holds ``<name>.html`` (Jinja2) each with a sidecar
``<name>.yaml`` saying what it is::

    title: {en: Line summary, ko: 회선 요약}
    period: month                  # or week
    providers: [utilization, outlook]
    description: {en: …, ko: …}    # optional

A file that does not load (no sidecar, a bad key, an unknown provider, a Jinja2 syntax error, a name a built-in
report has) becomes a :class:`~linewatch.errors.Problem` ``file:line: key: reason``: the list shows it, the other
reports still work, nothing crashes. Read on every call (the folder is small; an edit shows at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError
from pydantic import BaseModel, ConfigDict, Field

from linewatch.choices import ReportPeriodKind
from linewatch.errors import ConfigError, Problem
from linewatch.yamlconf import load_model

if TYPE_CHECKING:
    from linewatch.settings import Settings
    from web.reports.engine import ReportDefinition

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TEMPLATE_BYTES = 512 * 1024


class _Titles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str = Field(min_length=1)
    ko: str = Field(min_length=1)


class TemplateHeader(BaseModel):
    """A user template's sidecar (``<name>.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    title: _Titles
    period: ReportPeriodKind
    providers: list[str] = Field(min_length=1)
    description: _Titles | None = None


@dataclass
class Folder:
    definitions: list[ReportDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def template_dir(settings: Settings) -> Path | None:
    folder = settings.reports.template_dir
    return settings.resolve(folder) if folder else None


def load_folder(settings: Settings, *, reserved: set[str]) -> Folder:
    """The folder's valid definitions and its problems; ``reserved``: the built-in names (a user's file cannot
    replace a built-in report a schedule may name)."""
    from web.reports import engine

    out = Folder()
    folder = template_dir(settings)
    if folder is None:
        return out
    if not folder.is_dir():
        out.problems.append(Problem(str(folder), None, "reports.template_dir", "not a folder"))
        return out
    known = engine.providers()
    env = engine.environment(str(folder))
    for html in sorted(folder.glob("*.html")):
        if html.name.startswith("_"):
            continue  # partials (``{% include "user/_footer.html" %}``), not reports
        try:
            out.definitions.append(_load_one(html, known=set(known), reserved=reserved, env=env))
        except ConfigError as exc:
            out.problems.extend(exc.problems)
    for sidecar in sorted(folder.glob("*.yaml")):
        if not sidecar.with_suffix(".html").is_file():
            out.problems.append(Problem(str(sidecar), None, "", f"no template {sidecar.with_suffix('.html').name} "
                                                                "next to it"))
    return out


def _load_one(html: Path, *, known: set[str], reserved: set[str], env: object) -> ReportDefinition:
    from web.reports.engine import USER_PREFIX, ReportDefinition, combine

    name = html.stem
    if not NAME.match(name):
        raise ConfigError([Problem(str(html), None, "", "file name: lower-case letters, digits, - and _ only "
                                                        "(it is the report's name)")])
    if name in reserved:
        raise ConfigError([Problem(str(html), None, "", f"{name} is a built-in report's name: rename the file")])
    sidecar = html.with_suffix(".yaml")
    if not sidecar.is_file():
        raise ConfigError([Problem(str(html), None, "", f"no {sidecar.name} next to it (title en/ko, period, "
                                                        "providers: docs/reports.md)")])
    problems: list[Problem] = []
    header = None
    try:
        header, located = load_model(sidecar, TemplateHeader)
    except ConfigError as exc:
        problems.extend(exc.problems)
    else:
        problems.extend(located.problem(("providers", i), f"unknown provider {p} (known: "
                                        f"{', '.join(sorted(known)) or 'none'})")
                        for i, p in enumerate(header.providers) if p not in known)
    problems.extend(_template_problems(html, env))
    if problems or header is None:
        raise ConfigError(problems)
    description = header.description.model_dump() if header.description else {}
    return ReportDefinition(name=name, title=header.title.model_dump(), period_kind=header.period,
                            template=f"{USER_PREFIX}/{html.name}", provider=combine(header.providers),
                            providers=tuple(header.providers), description=description, origin=str(html))


def _template_problems(html: Path, env: object) -> list[Problem]:
    """The template's own problems: too large, not UTF-8, a Jinja2 syntax error (with its line)."""
    if html.stat().st_size > MAX_TEMPLATE_BYTES:
        return [Problem(str(html), None, "", f"larger than {MAX_TEMPLATE_BYTES // 1024} KiB")]
    try:
        env.parse(html.read_text(encoding="utf-8"), name=html.name)  # type: ignore[attr-defined]
    except TemplateSyntaxError as exc:
        return [Problem(str(html), exc.lineno, "", f"template syntax: {exc.message}")]
    except UnicodeDecodeError as exc:
        return [Problem(str(html), None, "", f"not UTF-8 text ({exc.reason})")]
    return []
