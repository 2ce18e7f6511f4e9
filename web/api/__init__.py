"""The REST API (Django REST framework, OpenAPI schema by drf-spectacular) under ``/api/``: docs/web.md "API"."""
