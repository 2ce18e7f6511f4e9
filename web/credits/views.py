"""The credits' pages: ``/credits/`` (the proposed matches first, with confirm and reject; the unmatched credit rows,
each linkable by hand to an open dispute; the decided matches), a match's page, and the three decisions. Every
change goes through :mod:`web.credits.services`, as the API's do."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from billing_etl.model import amount_text, money
from web.accounts.permissions import is_permitted, restrict
from web.credits import services
from web.credits.models import PROPOSED, CreditMatch
from web.invoices.models import InvoiceRow

PAGE_SIZE = 50


class DecisionForm(forms.Form):
    recovered_amount = forms.DecimalField(label=gettext_lazy("Recovered"), required=False, max_digits=14, decimal_places=4,
                                          min_value=Decimal(0))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


def dispute_label(dispute: Any) -> str:
    return f"{dispute.reference} · {amount_text(dispute.claimed_amount, dispute.currency)} {dispute.currency} · " \
           f"{dispute.period}"


class LinkForm(DecisionForm):
    """A credit row linked by hand to an open dispute of its carrier and currency. ``disputes``: those disputes,
    read once for the whole list page (the choices shown); the posted one is checked against the database."""

    dispute = forms.ModelChoiceField(label=gettext_lazy("Dispute"), queryset=services.open_disputes())

    def __init__(self, *args: Any, row: InvoiceRow, disputes: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["dispute"]
        field.queryset = services.open_disputes().filter(  # type: ignore[attr-defined]
            carrier_id=row.invoice.carrier_id, currency=row.currency).order_by("pk")
        field.label_from_instance = dispute_label  # type: ignore[attr-defined]
        if disputes is not None:
            field.choices = [("", field.empty_label), *((d.pk, dispute_label(d)) for d in disputes)]  # type: ignore


_REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^reference (?P<ref>\S+)$"), lambda m: _("reference %(ref)s") % m.groupdict()),
    (re.compile(r"^circuit (?P<circuit>.+)$"), lambda m: _("circuit %(circuit)s") % m.groupdict()),
    (re.compile(r"^amount (?P<credit>\S+) of (?P<claim>\S+) claimed \(partial\)$"),
     lambda m: _("amount %(credit)s of %(claim)s claimed (partial)") % m.groupdict()),
    (re.compile(r"^amount (?P<credit>\S+) of (?P<claim>\S+) claimed \(more than claimed\)$"),
     lambda m: _("amount %(credit)s of %(claim)s claimed (more than claimed)") % m.groupdict()),
    (re.compile(r"^amount (?P<credit>\S+) of (?P<claim>\S+) claimed$"),
     lambda m: _("amount %(credit)s of %(claim)s claimed") % m.groupdict()),
    (re.compile(r"^period (?P<months>.+)$"), lambda m: _("period %(months)s") % m.groupdict()),
    (re.compile(r"^tied with (?P<others>.+)$"), lambda m: _("tied with %(others)s") % m.groupdict()),
    (re.compile(r"^linked by hand$"), lambda m: _("linked by hand")),
]


def reason_text(reason: str) -> str:
    """A stored reason (web/credits/matching.py writes them in English) in the user's language."""
    for pattern, text in _REASONS:
        found = pattern.match(reason)
        if found:
            return str(text(found))
    return reason


def _visible(request: HttpRequest) -> Any:
    if not is_permitted(request.user, CreditMatch, "view"):
        raise PermissionDenied
    return restrict(CreditMatch.objects.all(), request.user).select_related(
        "credit_row__invoice__carrier", "dispute__carrier")


def _match_rows(matches: Any) -> list[dict[str, Any]]:
    return [{"match": m, "row": m.credit_row, "credited": amount_text(services.credited(m.credit_row), m.currency),
             "claimed": amount_text(m.dispute.claimed_amount, m.dispute.currency),
             "recovered": amount_text(m.recovered_amount, m.currency) if m.recovered_amount is not None else "",
             "recovered_input": "" if m.recovered_amount is None else str(money(m.recovered_amount, m.currency)),
             "reasons": [reason_text(r) for r in m.reasons]} for m in matches]


class MatchListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render_list(request)


def render_list(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    matches = _visible(request)
    may_decide = services.may(request.user, "change")
    may_link = may_decide and services.may(request.user, "add")
    proposed = matches.filter(state=PROPOSED).order_by("-score", "credit_row__invoice__invoice_date", "pk")
    decided = matches.exclude(state=PROPOSED).order_by("-decided_at", "-pk")
    page = Paginator(decided, PAGE_SIZE).get_page(request.GET.get("page"))
    unmatched_page = Paginator(services.unmatched_rows(), PAGE_SIZE).get_page(request.GET.get("unmatched_page"))
    candidates: dict[tuple[int, str], list[Any]] = {}
    for dispute in services.Dispute.objects.filter(state__in=services.OPEN_DISPUTE_STATES).order_by("pk"):
        candidates.setdefault((dispute.carrier_id, dispute.currency), []).append(dispute)
    unmatched = []
    for row in unmatched_page:
        disputes = candidates.get((row.invoice.carrier_id, row.currency), [])
        unmatched.append({"row": row, "credited": amount_text(services.credited(row), row.currency),
                          "disputes": disputes, "form": LinkForm(row=row, disputes=disputes, prefix=f"row{row.pk}")
                          if may_link else None})
    return TemplateResponse(request, "credits/match_list.html", {
        "proposed": _match_rows(proposed), "unmatched": unmatched, "unmatched_page": unmatched_page,
        "decided": _match_rows(page), "page_obj": page, "paginator": page.paginator,
        "query": urlencode({"unmatched_page": unmatched_page.number}), "may_decide": may_decide,
        "may_link": may_link, "error": error}, status=status)


class MatchDetailView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        match = get_object_or_404(_visible(request), pk=pk)
        return TemplateResponse(request, "credits/match_detail.html", {
            "m": _match_rows([match])[0], "match": match,
            "may_decide": match.state == PROPOSED and services.may(request.user, "change")})


def _decide(request: HttpRequest, fn: Any, *args: Any, **kwargs: Any) -> HttpResponse:
    """A decision from a page: refused as 403, a state conflict (409) or a wrong amount (400) shown on the list."""
    try:
        fn(*args, user=request.user, **kwargs)
    except services.NotPermitted as exc:
        raise PermissionDenied(str(exc)) from None
    except services.CreditError as exc:
        return render_list(request, error=str(exc), status=409)
    except ValidationError as exc:
        return render_list(request, error="; ".join(exc.messages), status=400)
    return HttpResponseRedirect(reverse("credits:match_list"))


def _decision(request: HttpRequest) -> DecisionForm | None:
    form = DecisionForm(request.POST)
    return form if form.is_valid() else None


class ConfirmView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        match = get_object_or_404(_visible(request), pk=pk)
        form = _decision(request)
        if form is None:
            return render_list(request, error=_("Recovered: give an amount (e.g. 50.00)"), status=400)
        return _decide(request, services.confirm, match, recovered_amount=form.cleaned_data["recovered_amount"])


class RejectView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        match = get_object_or_404(_visible(request), pk=pk)
        form = _decision(request)
        return _decide(request, services.reject, match, note=form.cleaned_data["note"] if form else "")


class LinkView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        _visible(request)
        row = get_object_or_404(services.credit_rows(), pk=pk)
        if not services.may(request.user, "add"):
            raise PermissionDenied(_("deciding on credits needs the role finance"))
        form = LinkForm(request.POST, row=row, prefix=f"row{row.pk}")
        if not form.is_valid():
            errors = "; ".join(f"{form.fields[f].label if f in form.fields else f}: {' '.join(e)}"
                               for f, e in form.errors.items())
            return render_list(request, error=errors, status=400)
        return _decide(request, services.link, row, form.cleaned_data["dispute"],
                       recovered_amount=form.cleaned_data["recovered_amount"])
