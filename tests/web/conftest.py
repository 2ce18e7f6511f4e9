"""Fixtures of the web tests; Django itself is set up by :mod:`web_test_setup` (imported first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import web_test_setup  # noqa: F401  (configures Django before pytest-django needs it)
from browser_support import app, artifacts, browser  # noqa: F401  (the browser tests' session fixtures, once)
from web_test_setup import TEST_DATABASE_URL

HERE = Path(__file__).resolve().parent
# Started first (xdist gives each file to one worker, in this order): the PostgreSQL run of tests/web is the
# suite's longest test, so the other worker takes everything else meanwhile.
SCHEDULED_FIRST = ("test_web_postgres.py",)


# Files the PostgreSQL run leaves to the SQLite run although they touch the database: what they check is the
# browser's rendering and scripts, and the API against its schema — the same ORM calls the page and API tests
# make on PostgreSQL. Leaving them out keeps the whole suite inside its 20 minutes on two cores.
BACKEND_AGNOSTIC = ("test_api_schema.py",)


def backend_agnostic(item: pytest.Item) -> bool:
    return item.path.name in BACKEND_AGNOSTIC or item.path.name.endswith("_browser.py")  # test_browser.py too


def uses_the_database(item: pytest.Item) -> bool:
    """Whether a test reaches the app's database: through pytest-django (``db`` and its kin, ``django_db``) or
    outside it (marked ``web_database``: a server process on the test database, the backend itself)."""
    return bool(item.get_closest_marker("django_db") or item.get_closest_marker("web_database")
                or "django_db_setup" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL run, only the tests that touch the database (the others ran on SQLite already, and
    the database is all that differs). In every run, the files of ``SCHEDULED_FIRST`` go first."""
    if TEST_DATABASE_URL:
        kept = [uses_the_database(item) and not backend_agnostic(item) for item in items]
        elsewhere = [item for item, keep in zip(items, kept) if not keep]
        if elsewhere:
            config.hook.pytest_deselected(items=elsewhere)
            items[:] = [item for item, keep in zip(items, kept) if keep]
    first = [item for item in items if item.path.parent == HERE and item.path.name in SCHEDULED_FIRST]
    if first:
        items[:] = first + [item for item in items if item not in first]


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


@pytest.fixture(autouse=True)
def _language_of_the_settings_after_each_test():
    """A Korean page request (LocaleMiddleware activates the language for the thread and leaves it active) must not
    make the next test's services speak Korean: after each test the thread's language is the settings' again.
    Found when the credits tests ran after the orders' or invoices' Korean page tests on one worker."""
    yield
    from django.utils import translation

    translation.deactivate()
