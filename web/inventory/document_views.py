"""Pages of documents: upload (a full page, or the documents section re-rendered through htmx), download,
delete with confirmation. The section itself is ``inventory/_documents.html`` (``{% include … with parent=… %}``).

Permissions (web/accounts/permissions.py, the API's too): a document follows its parent — its view permission to
see and download, its change permission to attach and delete.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from linewatch.choices import DocumentKind
from web.accounts.permissions import attachment_permitted, restrict_attachments
from web.inventory import documents
from web.inventory.models import Carrier, Contract, Document, Line
from web.inventory.uploads import install_size_limit
from web.labels import choices_of

PARENT_MODELS: dict[str, type[Model]] = {"carrier": Carrier, "contract": Contract, "line": Line}


class DocumentForm(forms.Form):
    """The upload form. The checks are :func:`web.inventory.documents.prepare_document`'s, the API's too."""

    carrier = forms.ModelChoiceField(Carrier.objects.all(), required=False, widget=forms.HiddenInput)
    contract = forms.ModelChoiceField(Contract.objects.all(), required=False, widget=forms.HiddenInput)
    line = forms.ModelChoiceField(Line.objects.all(), required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=choices_of(DocumentKind), initial=DocumentKind.CONTRACT.value,
                             required=False)  # as in the API: "other" when not given
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("optional: the file name is shown when empty"))
    file = forms.FileField(label=_("File"), allow_empty_file=True)  # "empty" is refused by the shared check

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules = documents.limits()
        self.fields["file"].widget.attrs["accept"] = ",".join(documents.allowed_extensions(rules.allowed_types))
        self.fields["file"].help_text = _("%(types)s, at most %(limit)s") % {
            "types": ", ".join(documents.allowed_extensions(rules.allowed_types)),
            "limit": filesizeformat(rules.max_size_bytes)}
        self.document: Document | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.document = documents.prepare_document(
                carrier=data.get("carrier"), contract=data.get("contract"), line=data.get("line"),
                kind=data.get("kind"), title=data.get("title"), upload=data.get("file"))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return data


def parent_of(data: Any) -> Model:
    """The one parent named by ``carrier``, ``contract`` or ``line`` in ``data`` (404 if none or unknown)."""
    named = [(name, data.get(name)) for name in PARENT_MODELS if data.get(name)]
    if len(named) != 1:
        raise Http404(_("name exactly one of carrier, contract, line"))
    name, pk = named[0]
    try:
        return get_object_or_404(PARENT_MODELS[name], pk=int(pk))
    except (TypeError, ValueError, OverflowError):
        raise Http404(_("no such %(parent)s") % {"parent": name}) from None


def _check(request: HttpRequest, parent: Model, action: str) -> None:
    if not attachment_permitted(request.user, type(parent), action):  # type: ignore[arg-type]
        raise PermissionDenied


def section_context(parent: Model, user: Any, form: DocumentForm | None = None) -> dict[str, Any]:
    """What ``inventory/_documents.html`` shows for ``parent`` (the template tag gives it to every page)."""
    field = next(name for name, model in PARENT_MODELS.items() if isinstance(parent, model))
    rows = restrict_attachments(Document.objects.filter(**{field: parent}), user)
    may_change = attachment_permitted(user, type(parent), "change")
    if form is None and may_change:
        form = DocumentForm(initial={field: parent.pk})
    return {"parent": parent, "parent_field": field, "documents": rows, "may_change": may_change,
            "document_form": form if may_change else None}


@method_decorator(csrf_exempt, name="dispatch")  # CSRF is checked in post(), once the size limit is in place
class DocumentUploadView(View):
    """GET ``?line=ID`` (or carrier, contract): the upload page; POST: upload. htmx gets the section back."""

    def get(self, request: HttpRequest) -> HttpResponse:
        parent = parent_of(request.GET)
        _check(request, parent, "add")
        return self._render(request, parent, None)

    def post(self, request: HttpRequest) -> HttpResponse:
        # Before anything reads the body: a file larger than the limit is dropped as it arrives.
        install_size_limit(request, documents.limits().max_size_bytes)
        return self._post(request)

    @method_decorator(csrf_protect)
    def _post(self, request: HttpRequest) -> HttpResponse:
        parent = parent_of(request.POST)
        _check(request, parent, "add")
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid() and form.document is not None:
            try:
                documents.add_document(form.document, user=request.user)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                if request.htmx:  # type: ignore[attr-defined]
                    return self._render(request, parent, None, uploaded=form.document)
                return HttpResponseRedirect(parent_url(parent) + "#documents")
        return self._render(request, parent, form)

    def _render(self, request: HttpRequest, parent: Model, form: DocumentForm | None,
                uploaded: Document | None = None) -> HttpResponse:
        context = {"parent": parent, "parent_url": parent_url(parent), "document_form": form, "uploaded": uploaded}
        htmx = request.htmx  # type: ignore[attr-defined]
        return render(request, "inventory/_documents.html" if htmx else "inventory/document_form.html", context)


def parent_url(parent: Model) -> str:
    """The parent's page (a contract without a page of its own: its line's)."""
    if hasattr(parent, "get_absolute_url"):
        return parent.get_absolute_url()
    return parent.line.get_absolute_url()  # type: ignore[attr-defined]


def _document(request: HttpRequest, pk: int) -> Document:
    """The document if the user may see it (its parent's view permission), else 404 (403 for no role at all)."""
    document = restrict_attachments(Document.objects.select_related("carrier", "contract__line", "line"),
                                    request.user).filter(pk=pk).first()
    if document is None:
        if not any(attachment_permitted(request.user, m, "view") for m in PARENT_MODELS.values()):
            raise PermissionDenied
        raise Http404(_("no such document"))
    return document


class DocumentDownloadView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return documents.download_response(_document(request, pk))


class DocumentDeleteView(View):
    """GET: the confirmation page; POST: delete, back to the parent's page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        document = _document(request, pk)
        _check(request, document.parent, "delete")  # type: ignore[arg-type]
        return render(request, "inventory/document_confirm_delete.html",
                      {"document": document, "parent_url": parent_url(document.parent)})  # type: ignore[arg-type]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        document = _document(request, pk)
        parent = document.parent
        _check(request, parent, "delete")  # type: ignore[arg-type]
        documents.delete_document(document)
        return HttpResponseRedirect(parent_url(parent) + "#documents")  # type: ignore[arg-type]
