"""Pages of the intake: the collected files with their outcomes (``/intake/``), one file with its quarantined rows,
the mailbox's messages, the upload by hand (finance) and the retry of a rejected or failed file (admin).

Permissions: :mod:`web.accounts.permissions` (the API's check): finance and admins view; finance uploads
(``intake.add_intakefile``); admins retry (``intake.retry_intakefile``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View

from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted, restrict
from web.intake import collect
from web.intake.filtersets import IntakeFileFilterSet
from web.intake.forms import UploadForm
from web.intake.models import IntakeFile, IntakeMessage

RETRY_PERMISSION = "intake.retry_intakefile"


class FileListView(ModelPermissionRequiredMixin, ListView):
    """Every collected file, the newest first, filtered by outcome, source and carrier; the upload form on top."""

    model = IntakeFile
    template_name = "intake/file_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[IntakeFile]:
        queryset = super().get_queryset().select_related("message", "carrier", "uploaded_by")
        self.filterset = IntakeFileFilterSet(self.request.GET or None, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context |= {"filter": self.filterset, "query": query.urlencode(),
                    "may_upload": is_permitted(self.request.user, IntakeFile, "add"), "form": UploadForm()}
        return context


class FileDetailView(ModelPermissionRequiredMixin, DetailView):
    model = IntakeFile
    template_name = "intake/file_detail.html"
    context_object_name = "file"

    def get_queryset(self) -> QuerySet[IntakeFile]:
        return super().get_queryset().select_related("message", "carrier", "uploaded_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["may_retry"] = self.object.retryable and self.request.user.has_perm(RETRY_PERMISSION)
        return context


class MessageListView(ModelPermissionRequiredMixin, ListView):
    model = IntakeMessage
    template_name = "intake/message_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[IntakeMessage]:
        return super().get_queryset().prefetch_related("files")


class UploadView(ModelPermissionRequiredMixin, View):
    """A file uploaded by hand: collected as the folder's are; the page of its outcome follows."""

    model = IntakeFile
    permission_action = "add"

    def get(self, request: Any) -> HttpResponse:
        return TemplateResponse(request, "intake/upload_form.html", {"form": UploadForm()})

    def post(self, request: Any) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return TemplateResponse(request, "intake/upload_form.html", {"form": form}, status=400)
        upload = form.cleaned_data["file"]
        row = collect.collect_upload(upload.name, upload.read(), user=request.user)
        return HttpResponseRedirect(row.get_absolute_url())


class RetryView(LoginRequiredMixin, View):
    """Try a rejected or failed file again (admins): POST only."""

    def post(self, request: Any, pk: int) -> HttpResponse:
        if not request.user.has_perm(RETRY_PERMISSION):
            raise PermissionDenied(_("your role may not retry an intake file"))
        row = get_object_or_404(restrict(IntakeFile.objects.all(), request.user), pk=pk)
        try:
            collect.retry(row)
        except ValueError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("intake:file_detail", args=[row.pk]))
