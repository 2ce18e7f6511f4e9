"""The findings' pages: the list (filters; bulk accept with one reason, open a dispute from the selection), a
finding (its moves, its dispute, suppression rule and SLA-credit claim), the suppression rules (list, add, edit),
the disputes (list; a dispute with its moves — send, record the answer, resolve —, notes, timeline and evidence
downloads). Every change goes through :mod:`web.findings.services`, as the API's do: a move the user's role does
not own is 403, a move the state does not allow 409, bad input 400 naming the field."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from linewatch.choices import DisputeState, FindingState
from web.accounts.permissions import is_permitted, restrict
from web.findings import services
from web.findings.claims import claim_of
from web.findings.filtersets import DisputeFilterSet, FindingFilterSet
from web.findings.forms import MOVE_FORMS, AcceptForm, NoteForm, OpenDisputeForm, SuppressionRuleForm
from web.findings.labels import MOVE_LABELS
from web.findings.models import Dispute, Finding, SuppressionRule
from web.findings.workflow import BY_NAME

PAGE_SIZE = 100


def _visible(request: HttpRequest, model: type[Any]) -> Any:
    if not is_permitted(request.user, model, "view"):
        raise PermissionDenied
    return restrict(model.objects.all(), request.user)


def _add_errors(form: BaseForm, exc: ValidationError) -> None:
    for field, messages in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
    return "; ".join(exc.messages)


def _query(request: HttpRequest) -> str:
    """The list's filter as a query string, without the page (the pagination's links add it)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def totals(findings: Any) -> list[tuple[str, Decimal]]:
    """The recoverable sum per currency (never across currencies)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in findings.values_list("currency", "recoverable"):
        sums[currency] += amount
    return sorted(sums.items())


# -- findings ----------------------------------------------------------------------------------------------------


class FindingListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request)

    def render(self, request: HttpRequest, *, error: str = "", accept_form: BaseForm | None = None,
               dispute_form: BaseForm | None = None, status: int = 200) -> HttpResponse:
        findings = _visible(request, Finding).select_related("carrier", "line", "dispute", "invoice")
        filterset = FindingFilterSet(request.GET, queryset=findings, request=request)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return TemplateResponse(request, "findings/finding_list.html", {
            "filter": filterset, "page": page, "query": _query(request), "totals": totals(filterset.qs), "error": error,
            "may_triage": services.may_move(BY_NAME["accept"], request.user),
            "accept_form": accept_form or AcceptForm(prefix="accept"),
            "dispute_form": dispute_form or OpenDisputeForm(prefix="dispute"),
            "selected": {int(x) for x in request.POST.getlist("finding") if x.isdigit()},
        }, status=status)


class FindingBulkView(View):
    """POST the selected ``finding`` ids with ``action`` accept (one reason for all) or dispute (one dispute)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        view = FindingListView()
        ids = [int(x) for x in request.POST.getlist("finding") if x.isdigit()]
        chosen = list(_visible(request, Finding).filter(pk__in=ids).order_by("pk"))
        if not chosen:
            return view.render(request, error=_("choose at least one finding"), status=400)
        action = request.POST.get("action")
        try:
            if action == "accept":
                form = AcceptForm(request.POST, prefix="accept")
                if not form.is_valid():
                    return view.render(request, accept_form=form, status=400)
                with transaction.atomic():  # all or none
                    for finding in chosen:
                        services.accept(finding, request.user, reason=form.cleaned_data["reason"])
                return HttpResponseRedirect(reverse("findings:finding_list") + "?" + request.GET.urlencode())
            if action == "dispute":
                form = OpenDisputeForm(request.POST, prefix="dispute")
                if not form.is_valid():
                    return view.render(request, dispute_form=form, status=400)
                dispute = services.open_dispute(chosen, request.user,
                                                claimed_amount=form.cleaned_data["claimed_amount"],
                                                language=form.cleaned_data["language"] or None)
                return HttpResponseRedirect(dispute.get_absolute_url())
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except services.NotAvailable as exc:
            return view.render(request, error=str(exc), status=409)
        except ValidationError as exc:
            return view.render(request, error=_errors_text(exc), status=400)
        return view.render(request, error=_("unknown action"), status=400)


def _finding(request: HttpRequest, pk: int) -> Finding:
    return get_object_or_404(_visible(request, Finding).select_related(
        "carrier", "line", "invoice", "dispute", "suppressed_by"), pk=pk)


def render_finding(request: HttpRequest, finding: Finding, *, failed: dict[str, BaseForm] | None = None,
                   error: str = "", status: int = 200) -> HttpResponse:
    failed = failed or {}
    moves = [{"name": m.name, "label": MOVE_LABELS[m.name],
              "form": failed.get(m.name) or (MOVE_FORMS[m.name](prefix=m.name) if m.name in MOVE_FORMS else None)}
             for m in services.available_moves(finding, request.user) if m.name in ("accept", "reopen")]
    return TemplateResponse(request, "findings/finding_detail.html", {
        "finding": finding, "moves": moves, "error": error, "claim": claim_of(finding),
        "may_dispute": finding.state == FindingState.NEW and services.may_move(BY_NAME["add_to_dispute"],
                                                                              request.user),
        "dispute_form": OpenDisputeForm(prefix="dispute"),
        "may_suppress": is_permitted(request.user, SuppressionRule, "add"),
    }, status=status)


class FindingDetailView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_finding(request, _finding(request, pk))


class FindingMoveView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        finding = _finding(request, pk)
        name = request.POST.get("transition", "")
        if name not in ("accept", "reopen"):
            return render_finding(request, finding, error=_("unknown action"), status=400)
        form = MOVE_FORMS[name](request.POST, prefix=name) if name in MOVE_FORMS else None
        if form is not None and not form.is_valid():
            return render_finding(request, finding, failed={name: form}, status=400)
        try:
            if name == "accept":
                services.accept(finding, request.user, reason=form.cleaned_data["reason"])  # type: ignore[union-attr]
            else:
                services.reopen(finding, request.user)
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except services.NotAvailable as exc:
            return render_finding(request, finding, error=str(exc), status=409)
        except ValidationError as exc:
            if form is not None:
                _add_errors(form, exc)
            return render_finding(request, finding, failed={name: form} if form else {}, error=_errors_text(exc),
                                  status=400)
        return HttpResponseRedirect(finding.get_absolute_url())


# -- suppression rules -------------------------------------------------------------------------------------------


class SuppressionListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        rules = _visible(request, SuppressionRule).select_related("carrier", "line")
        from django.utils import timezone

        return TemplateResponse(request, "findings/suppression_list.html", {
            "rules": rules, "today": timezone.localdate(),
            "may_add": is_permitted(request.user, SuppressionRule, "add"),
            "may_change": is_permitted(request.user, SuppressionRule, "change")})


class SuppressionFormView(View):
    """Add (``pk`` None; ``?finding=<pk>`` prefills the rule, carrier, line and circuit) or edit a rule."""

    def _rule(self, request: HttpRequest, pk: int | None) -> SuppressionRule | None:
        action = "add" if pk is None else "change"
        if not is_permitted(request.user, SuppressionRule, action):
            raise PermissionDenied
        return None if pk is None else get_object_or_404(restrict(SuppressionRule.objects.all(), request.user,
                                                                  "change"), pk=pk)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        rule = self._rule(request, pk)
        initial: dict[str, Any] = {}
        source = request.GET.get("finding")
        if rule is None and source and source.isdigit():
            f = get_object_or_404(_visible(request, Finding), pk=int(source))
            initial = {"rule": f.rule, "carrier": f.carrier_id, "line": f.line_id,
                       "circuit_id": "" if f.line_id else f.circuit_id, "reason": f.state_reason}
        return self._page(request, SuppressionRuleForm(instance=rule, initial=initial), rule)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        rule = self._rule(request, pk)
        form = SuppressionRuleForm(request.POST, instance=rule)
        if form.is_valid():
            saved = form.save(commit=False)
            if rule is None:
                saved.created_by, saved.created_by_name = request.user, request.user.get_username()
            saved.save()
            return HttpResponseRedirect(reverse("findings:suppression_list"))
        return self._page(request, form, rule, status=400)

    def _page(self, request: HttpRequest, form: BaseForm, rule: SuppressionRule | None,
              status: int = 200) -> HttpResponse:
        return TemplateResponse(request, "findings/suppression_form.html", {"form": form, "rule": rule},
                                status=status)


# -- disputes ----------------------------------------------------------------------------------------------------


class DisputeListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        disputes = _visible(request, Dispute).select_related("carrier")
        filterset = DisputeFilterSet(request.GET, queryset=disputes, request=request)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return TemplateResponse(request, "findings/dispute_list.html", {"filter": filterset, "page": page,
                                                                        "query": _query(request)})


def _dispute(request: HttpRequest, pk: int) -> Dispute:
    return get_object_or_404(_visible(request, Dispute).select_related("carrier"), pk=pk)


def render_dispute(request: HttpRequest, dispute: Dispute, *, failed: dict[str, BaseForm] | None = None,
                   error: str = "", status: int = 200) -> HttpResponse:
    failed = failed or {}
    moves = [{"name": m.name, "label": MOVE_LABELS[m.name],
              "form": failed.get(m.name) or (MOVE_FORMS[m.name](prefix=m.name) if m.name in MOVE_FORMS else None)}
             for m in services.available_moves(dispute, request.user)]
    return TemplateResponse(request, "findings/dispute_detail.html", {
        "dispute": dispute, "findings": dispute.findings.select_related("line", "invoice").order_by("period", "pk"),
        "events": dispute.events.all(), "moves": moves, "error": error,
        "may_note": services.may_move(BY_NAME["answer"], request.user),
        "note_form": failed.get("note") or NoteForm(prefix="note"),
        "contacts": services.billing_contacts(dispute.carrier),
        "open": dispute.state != DisputeState.RESOLVED,
    }, status=status)


class DisputeDetailView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_dispute(request, _dispute(request, pk))


class DisputeMoveView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        dispute = _dispute(request, pk)
        name = request.POST.get("transition", "")
        if name not in ("send", "answer", "resolve_dispute", "note"):
            return render_dispute(request, dispute, error=_("unknown action"), status=400)
        form_class = NoteForm if name == "note" else MOVE_FORMS.get(name)
        form = form_class(request.POST, prefix=name) if form_class else None
        if form is not None and not form.is_valid():
            return render_dispute(request, dispute, failed={name: form}, status=400)
        data = form.cleaned_data if form is not None else {}
        try:
            if name == "send":
                services.send_dispute(dispute, request.user)
            elif name == "answer":
                services.record_answer(dispute, request.user, reference=data["reference"], answer=data["answer"])
            elif name == "resolve_dispute":
                services.resolve_dispute(dispute, request.user, outcome=data["outcome"],
                                         recovered_amount=data["recovered_amount"], note=data["note"])
            else:
                services.add_note(dispute, request.user, text=data["text"])
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except services.NotAvailable as exc:
            return render_dispute(request, dispute, error=str(exc), status=409)
        except ValidationError as exc:
            if form is not None:
                _add_errors(form, exc)
            return render_dispute(request, Dispute.objects.get(pk=dispute.pk), failed={name: form} if form else {},
                                  error=_errors_text(exc), status=400)
        return HttpResponseRedirect(dispute.get_absolute_url())


class EvidenceDownloadView(View):
    def get(self, request: HttpRequest, pk: int, kind: str) -> HttpResponse:
        from web.findings import evidence

        dispute = _dispute(request, pk)
        if kind not in ("pdf", "xlsx"):
            raise Http404(kind)
        try:
            body = evidence.open_file(dispute, kind)  # type: ignore[arg-type]
        except FileNotFoundError:
            raise Http404(_("no evidence pack stored yet")) from None
        name = dispute.evidence_pdf_name if kind == "pdf" else dispute.evidence_xlsx_name
        response = HttpResponse(body, content_type=evidence.content_type(kind))  # type: ignore[arg-type]
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
