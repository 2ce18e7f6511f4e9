"""Django for the web tests: settings from a throw-away linewatch.yaml and fixed test keys, SQLite in memory.

Imported by tests/web/conftest.py, and by the tests needing its names (a module name of its own: every test
folder's ``conftest`` is called ``conftest``). Django is configured when this module is imported (pytest-django
then creates the test database); the ``LINEWATCH_*`` and ``DJANGO_SETTINGS_MODULE`` variables used for that are
removed again so they cannot leak into other areas' tests (pytest-django sees ``settings.configured``).

With ``LW_WEB_TEST_DATABASE_URL`` set, the same tests run on that database instead:
tests/web/test_web_postgres.py runs them once more on a database of the session PostgreSQL fixture.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import django
from cryptography.fernet import Fernet

STATE_DIR = Path(tempfile.mkdtemp(prefix="lw-web-tests-"))
atexit.register(shutil.rmtree, STATE_DIR, ignore_errors=True)
CREDENTIALS_KEY = Fernet.generate_key().decode()
SECRET_KEY = "test-" + "k" * 60
TEST_DATABASE_ENV = "LW_WEB_TEST_DATABASE_URL"
TEST_DATABASE_URL = os.environ.get(TEST_DATABASE_ENV)
_ENV = {
    "LINEWATCH_CONFIG": str(STATE_DIR / "linewatch.yaml"),
    "LINEWATCH_WEB__SECRET_KEY": SECRET_KEY,
    "LINEWATCH_WEB__CREDENTIALS_KEY": CREDENTIALS_KEY,
}
_SETUP_ENV = _ENV | ({"LINEWATCH_WEB__DATABASE_URL": TEST_DATABASE_URL} if TEST_DATABASE_URL else {})
(STATE_DIR / "var" / "web-static").mkdir(parents=True)  # STATIC_ROOT (whitenoise warns when it is missing)
(STATE_DIR / "linewatch.yaml").write_text(f"state_dir: {STATE_DIR / 'var'}\n")
_SETUP_ENV["DJANGO_SETTINGS_MODULE"] = "web.settings"
_saved = {k: os.environ.get(k) for k in _SETUP_ENV}
os.environ.update(_SETUP_ENV)
try:
    django.setup()
finally:
    for k, v in _saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def web_env(**extra: str) -> dict[str, str]:
    """An environment for a subprocess running the web app with the test keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEWATCH_", "DJANGO_"))}
    return env | _ENV | extra


