"""Production settings: the common ones (web.settings_common) plus HTTPS-only cookies, HSTS and keys that must be given.

``manage.py check --deploy`` is clean with these (tests/web/test_web_settings.py runs it). Put the app behind a
TLS-terminating proxy that sets ``X-Forwarded-Proto``.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from web.keys import credentials_keys
from web.settings_common import *
from web.settings_common import _WEB

if _WEB.secret_key is None or _WEB.credentials_key is None:
    raise ImproperlyConfigured(
        "production settings need LINEWATCH_WEB__SECRET_KEY and LINEWATCH_WEB__CREDENTIALS_KEY "
        "(web.secret_key / web.credentials_key in linewatch.yaml): generated keys are for development only"
    )
SECRET_KEY = _WEB.secret_key.get_secret_value()
LINEWATCH_CREDENTIALS_KEYS = credentials_keys(_WEB.credentials_key, state_dir=STATE_DIR)
WHITENOISE_USE_FINDERS = False
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-linewatch-session"
CSRF_COOKIE_NAME = "__Host-linewatch-csrf"
