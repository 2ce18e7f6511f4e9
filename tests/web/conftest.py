"""Django for the web tests: settings from a throw-away linewatch.yaml and fixed test keys, SQLite in memory.

Django is configured when this file is imported (pytest-django then creates the test database); the
``LINEWATCH_*`` variables used for that are removed again so they cannot leak into other areas' tests.

With ``LW_WEB_TEST_DATABASE_URL`` set, the same tests run on that database instead:
tests/web/test_web_postgres.py runs them once more on a database of the session PostgreSQL fixture.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
import pytest
from cryptography.fernet import Fernet

STATE_DIR = Path(tempfile.mkdtemp(prefix="lw-web-tests-"))
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
_saved = {k: os.environ.get(k) for k in _SETUP_ENV}
os.environ.update(_SETUP_ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "web.settings"
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


@pytest.fixture
def make_inventory(db: Any) -> Callable[..., dict[str, Any]]:
    """Build a small inventory: two carriers, two sites, two departments, a device and ``n`` lines."""
    from linewatch.choices import LineStatus, LineType
    from web.inventory.models import Carrier, CostCentre, Department, Device, Line, LineMember, Site

    def build(n: int = 6) -> dict[str, Any]:
        carriers = [Carrier.objects.create(name="Telia", currency="EUR"),
                    Carrier.objects.create(name="Colt", currency="EUR")]
        sites = [Site.objects.create(name="Frankfurt"), Site.objects.create(name="Seoul")]
        departments = [Department.objects.create(name="Engineering"), Department.objects.create(name="Sales")]
        cc = CostCentre.objects.create(code="CC-4100", department=departments[0])
        device = Device.objects.create(name="fra-edge-1", address="127.0.0.1", snmp_version="2c",
                                       snmp_community="s3cret-community", site=sites[0])
        statuses = list(LineStatus)
        types = list(LineType)
        lines = []
        for i in range(n):
            line = Line.objects.create(
                name=f"LINE-{i:03d}", carrier=carriers[i % 2], circuit_id=f"CID-{i:05d}",
                type=types[i % len(types)], status=statuses[i % len(statuses)], site=sites[i % 2],
                department=departments[(i // 2) % 2], cost_centre=cc, capacity_bps=(i + 1) * 10_000_000)
            LineMember.objects.create(line=line, device=device, interface=f"ge-0/0/{i}")
            lines.append(line)
        return {"carriers": carriers, "sites": sites, "departments": departments, "device": device,
                "lines": lines, "cost_centre": cc}

    return build


@pytest.fixture
def user_with_role(db: Any) -> Callable[[str | None], Any]:
    """A user in the role group named (or in none)."""
    from django.contrib.auth.models import Group, User

    counter = iter(range(10_000))

    def make(role: str | None) -> Any:
        user = User.objects.create_user(f"user{next(counter)}-{role or 'none'}", password=None)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make
