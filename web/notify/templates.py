"""Message texts: ``render(kind, language=…, context=…, carrier=…)`` in a sandboxed Jinja2.

The text of a kind is the :class:`~web.notify.models.MessageTemplate` row of the carrier and language, else the row
for every carrier, else the built-in file ``templates/notify/messages/<kind>.<language>.txt`` (English when that
language has none). A file's first line is the subject, then an empty line, then the body.

Templates run in Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: ``{{ ''.__class__ }}`` and unknown
variables are errors. A template is checked on save (:func:`check_template`) against the kind's sample context
(``<kind>.sample.json`` next to the built-in files; without one, the variables the built-in text uses), so an
edited template naming an unknown variable is refused with the variable's name. The HTML part is the body rendered
again with autoescape on, each paragraph in ``<p>``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from linewatch.choices import Language

log = logging.getLogger(__name__)
MESSAGES_DIR = Path(__file__).resolve().parent / "templates" / "notify" / "messages"

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


class UnknownMessageKind(LookupError):
    """No built-in text for the kind (its owner adds ``<kind>.en.txt``)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Source:
    """The unrendered subject and body of a kind, and where they came from (a row's pk or a file)."""

    subject: str
    body: str
    origin: str


def builtin(kind: str, language: str) -> Source:
    for lang in dict.fromkeys((language, Language.EN.value)):
        path = MESSAGES_DIR / f"{kind}.{lang}.txt"
        if path.is_file():
            subject, _sep, body = path.read_text(encoding="utf-8").partition("\n\n")
            return Source(subject=subject.strip(), body=body, origin=path.name)
    raise UnknownMessageKind(f"no built-in message {kind!r} (add {MESSAGES_DIR / (kind + '.en.txt')})")


def source(kind: str, *, language: str, carrier: Any = None) -> Source:
    from web.notify.models import MessageTemplate

    rows = MessageTemplate.objects.filter(kind=kind, language=language)
    row = (rows.filter(carrier=carrier).first() if carrier is not None else None) or \
        rows.filter(carrier__isnull=True).first()
    if row is not None:
        return Source(subject=row.subject, body=row.body, origin=f"template {row.pk}")
    return builtin(kind, language)


def _html(body: str, context: dict[str, Any]) -> str:
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    # Each paragraph is rendered with autoescape on; line breaks inside it become <br>.
    rendered = [_HTML.from_string(p).render(context).strip().replace("\n", "<br>\n") for p in paragraphs]
    return "".join(f"<p>{p}</p>\n" for p in rendered)


def render_source(src: Source, context: dict[str, Any]) -> Rendered:
    subject = " ".join(_TEXT.from_string(src.subject).render(context).split())  # one line
    return Rendered(subject=subject, text=_TEXT.from_string(src.body).render(context), html=_html(src.body, context))


def render(kind: str, *, language: str, context: dict[str, Any], carrier: Any = None) -> Rendered:
    """The message ``kind`` in ``language`` for ``carrier`` (a Carrier or None), with ``context``.

    An edited template that fails on this context (it passed the check against the sample) is logged and the
    built-in text is used instead, so a message is never lost to an edit."""
    src = source(kind, language=str(language), carrier=carrier)
    try:
        return render_source(src, context)
    except TemplateError as exc:
        fallback = builtin(kind, str(language))
        if src.origin == fallback.origin:
            raise
        log.warning("message %s: %s failed (%s: %s); using the built-in text", kind, src.origin,
                    type(exc).__name__, exc)
        return render_source(fallback, context)


@lru_cache(maxsize=64)
def sample_context(kind: str) -> dict[str, Any]:
    """The preview context of ``kind``: ``<kind>.sample.json``, else every variable of the built-in text as a
    placeholder string."""
    path = MESSAGES_DIR / f"{kind}.sample.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for file in MESSAGES_DIR.glob(f"{kind}.*.txt"):
        names |= meta.find_undeclared_variables(_TEXT.parse(file.read_text(encoding="utf-8")))
    return {name: f"[{name}]" for name in sorted(names)}


def check_template(kind: str, *, subject: str, body: str) -> Rendered:
    """Render ``subject`` and ``body`` with the sample context of ``kind``, or raise ValidationError naming the
    field and the reason (an unknown variable by its name, a syntax error with its line, a sandbox refusal)."""
    context = sample_context(kind)
    errors: dict[str, str] = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            unknown = sorted(meta.find_undeclared_variables(_TEXT.parse(text)) - set(context))
        except TemplateError as exc:
            errors[field] = _("Template error on line %(line)s: %(reason)s") % {
                "line": getattr(exc, "lineno", "?"), "reason": exc.message or type(exc).__name__}
            continue
        if unknown:
            errors[field] = _("Unknown variable %(names)s (known: %(known)s)") % {
                "names": ", ".join(unknown), "known": ", ".join(sorted(context)) or "-"}
    if errors:
        raise ValidationError(errors)
    try:
        return render_source(Source(subject=subject, body=body, origin="check"), context)
    except TemplateError as exc:
        raise ValidationError({"body": _("The template cannot be rendered: %(reason)s") % {
            "reason": f"{type(exc).__name__}: {exc}"}}) from None
