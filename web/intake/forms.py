"""The upload form of /intake/: one invoice file, taken the same way as the folder's and the mailbox's."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from web.intake.collect import MAX_FILE_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Invoice file"), help_text=_("CSV, XLSX or PDF, named as the carrier names it"))

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("the file is larger than %(mib)d MiB") % {"mib": MAX_FILE_BYTES // 2**20})
        if upload.size == 0:
            raise ValidationError(_("the file is empty"))
        return upload
