"""The voice API: the extension directory (CRUD as the pages: engineers, finance, admins; read: every role) and a
day's calls (``GET /api/voice/calls/?day=YYYY-MM-DD&line=…&direction=…&dest_class=…&outcome=…&number=…``, newest
first, paged like every list; the call records' permission)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from web.api.viewsets import ModelViewSet
from web.voice.api import serializers
from web.voice.calls import read_calls
from web.voice.directory import app_directory
from web.voice.forms import CallFilterForm
from web.voice.models import CallRecord, Extension
from web.voice.views import call_filter_of


class ExtensionViewSet(ModelViewSet):
    queryset = Extension.objects.select_related("department", "cost_centre")
    serializer_class = serializers.ExtensionSerializer
    filterset_fields = ("number", "department", "cost_centre")


class CallViewSet(viewsets.GenericViewSet):
    queryset = CallRecord.objects.none()  # the permission's model
    serializer_class = serializers.CallSerializer
    filter_backends = ()

    @extend_schema(parameters=[
        OpenApiParameter("day", str, description="YYYY-MM-DD in the user's time zone (default: today)"),
        OpenApiParameter("line", str, description="a voice line's name (default: every voice line)"),
        OpenApiParameter("direction", str), OpenApiParameter("dest_class", str), OpenApiParameter("outcome", str),
        OpenApiParameter("number", str, description="part of the caller, callee or extension")])
    def list(self, request: Request) -> Response:
        form = CallFilterForm(request.query_params or None)
        if request.query_params and not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        call_filter, _day = call_filter_of(form, timezone.get_current_timezone())
        calls = read_calls(call_filter, directory=app_directory())
        if calls.error is not None:
            return Response({"detail": calls.error}, status=503)
        frame = calls.frame
        page = self.paginate_queryset(range(len(frame)))  # the page's positions: only its rows are converted
        rows = frame.iloc[list(page) if page is not None else slice(None)]
        data = serializers.CallSerializer(rows.astype(object).where(rows.notna(), None).to_dict("records"),
                                          many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
