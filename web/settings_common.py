"""Settings shared by ``web.settings`` (development) and ``web.settings_production``, built from linewatch's
settings (``web:`` section). The keys are set by the two modules, not here.

The database is a SQLite file under ``state_dir`` unless ``web.database_url`` (``LINEWATCH_WEB__DATABASE_URL``)
names another one (``postgresql://user:password@host:port/name``). The signing key and the Fernet key that
encrypts SNMP credentials come from ``web.secret_key`` / ``web.credentials_key``; for development they are
generated once into ``state_dir`` (mode 0600). Production (``web.settings_production``) refuses generated keys.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from linewatch.settings import load_settings
from web.accounts import directory as _ldap

BASE_DIR = Path(__file__).resolve().parent

LINEWATCH = load_settings(os.environ.get("LINEWATCH_CONFIG"))
STATE_DIR = LINEWATCH.resolve(LINEWATCH.state_dir)
_WEB = LINEWATCH.web

DEBUG = False
ALLOWED_HOSTS = list(_WEB.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "web.audit",
    "web.accounts",
    "web.accounts.logins",
    "axes",
    "csp",
    "web.inventory",
    "web.notify",
    "web.orders",
    "web.faults",
    "web.inspections",
    "web.invoices",
    "web.findings",
    "web.credits",
    "web.intake",
    "web.finance",
    "web.voice",
    "web.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "web.accounts.middleware.SessionMaxAgeMiddleware",
    # Right after authentication: every response (a login redirect too) carries its X-Request-ID.
    "web.audit.middleware.ChangeContextMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last (django-axes): turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.accounts.permissions.context",
            ],
        },
    },
]


def database(url: str | None, *, state_dir: Path) -> dict[str, object]:
    """The ``default`` database: ``url`` when given, else ``state_dir/web.sqlite3``."""
    if url:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if parsed["ENGINE"] == "django.db.backends.sqlite3":
            parsed["OPTIONS"] = {**SQLITE_OPTIONS, **parsed.get("OPTIONS", {})}
        return parsed
    state_dir.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(state_dir / "web.sqlite3"), "OPTIONS": SQLITE_OPTIONS}


# The app, its worker and the demo's finance walk write one SQLite file at once: WAL lets the pages read while a
# job writes; IMMEDIATE takes the write lock when a transaction starts, so a second writer waits (up to timeout)
# instead of failing at once with "database is locked" when its read turns into a write.
SQLITE_OPTIONS = {"timeout": 30, "transaction_mode": "IMMEDIATE",
                  "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}


DATABASES = {
    "default": database(
        _WEB.database_url.get_secret_value() if _WEB.database_url else None, state_dir=STATE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# argon2 first (new and re-hashed passwords); the others only verify passwords hashed before.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inventory:line_list"
LOGOUT_REDIRECT_URL = "login"
# Idle timeout: a session unused for web.session_idle_s (30 min) ends (requests renew its database row, at most
# once a minute); web.session_max_s (8 h) after the login it ends anyway (web.accounts.middleware).
SESSION_COOKIE_AGE = _WEB.session_idle_s
SESSION_ENGINE = "web.accounts.sessions"  # the database, renewed when due (web.accounts.middleware.RENEW_S)
SESSION_SAVE_EVERY_REQUEST = False
LINEWATCH_SESSION_MAX_S = _WEB.session_max_s
LINEWATCH_INVENTORY_READ_ONLY = _WEB.inventory_read_only  # web/accounts/permissions.py: no inventory writes
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]  # strings of web/*.py; each app has its own locale/
USE_I18N = True
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["web.formats"]  # ISO 8601 dates and 24-hour times in both languages (web/formats/)
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "web-static"
# Development serves the apps' static files directly; production serves what `collectstatic` put in STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# linewatch's secret filter on Django's log output too: configured secrets (the database URL, the keys) and URL
# credentials are masked in every record, tracebacks included (linewatch/logfilter.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secrets": {"()": "linewatch.logfilter.SecretFilter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "filters": ["secrets"]}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}

PAGINATE_BY = 50

from web.api.settings import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: E402,F401  (the API: docs/web.md)

# Login (docs/web.md "Logging in"): axes, then LDAP when web.ldap is set, then the local accounts.
AUTHENTICATION_BACKENDS = _ldap.authentication_backends(_WEB.ldap)
globals().update(_ldap.django_settings(_WEB.ldap))
# django-axes: web.login_failure_limit (5) failed logins of one user name from one address lock that pair out
# for web.lockout_s (15 min); a success resets the count. Unlock: linewatch web manage axes_reset_username NAME
# (or axes_reset_ip ADDR, axes_reset).
AXES_FAILURE_LIMIT = _WEB.login_failure_limit
AXES_COOLOFF_TIME = timedelta(seconds=_WEB.lockout_s)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Content-Security-Policy (django-csp): scripts, styles and everything else only from this site; no inline
# script or style (htmx is loaded as a file), no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
