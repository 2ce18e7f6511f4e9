"""Management application benchmark (issue 10).

``web-lines``: 10,000 lines (100 devices, 5 carriers, 20 sites, 10 departments, one member interface each) in a
fresh SQLite database. Server time of the line list page (Django's test client as a logged-in viewer, first
page, default sort: every middleware, session, permission check and template) and of the collectors' inventory
endpoint ``/api/inventory.json`` (bearer token; the whole inventory as JSON), p95 over repeated requests after a
warm-up, against the bare SQL those pages need, run in the same process with ``connection.cursor()`` and every
row fetched, alternately with the page (so both see the same load): for the list, the count, the first 50 lines
joined with carrier, site, department and cost centre, and their members joined with devices; for the
inventory, every device with its site, every line with its joins and every member with its device. Ratio = page
p95 / bare SQL p95. Also prints the number of queries each page runs (a growing count is an N+1) and the median
CPU time of both (the same comparison, less disturbed by other processes on a shared machine).

``web-lines floor`` (printed first): a one-line ``HttpResponse`` view registered only in this process, behind the
same middleware stack, logged in as the same viewer (session and user loaded, no permission check, no template),
against the same bare SQL: what Django itself costs here before any page does its work.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LINES = 10_000
DEVICES = 100
REPEAT = 40  # list page requests (the inventory endpoint: INVENTORY_REPEAT, each takes seconds)
INVENTORY_REPEAT = 10
WARMUP = 3
PAGE_SIZE = 50
TOKEN = "bench-inventory-token-" + "x" * 20


def _setup(state: Path) -> None:
    from cryptography.fernet import Fernet

    (state / "var" / "web-static").mkdir(parents=True)
    (state / "linewatch.yaml").write_text(f"state_dir: {state / 'var'}\n")
    for name in [n for n in os.environ if n.startswith(("LINEWATCH_", "DJANGO_"))]:
        del os.environ[name]
    os.environ |= {
        "LINEWATCH_CONFIG": str(state / "linewatch.yaml"),
        "LINEWATCH_WEB__SECRET_KEY": "bench-" + "k" * 60,
        "LINEWATCH_WEB__CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "LINEWATCH_WEB__INVENTORY_TOKEN": TOKEN,
        "LINEWATCH_WEB__ALLOWED_HOSTS": '["testserver", "127.0.0.1"]',
        "DJANGO_SETTINGS_MODULE": "web.settings",
    }
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _populate() -> None:
    from linewatch.choices import LineStatus, LineType
    from web.inventory.models import Carrier, CostCentre, Department, Device, Line, LineMember, Site

    carriers = [Carrier.objects.create(name=f"Carrier {i}", currency="EUR") for i in range(5)]
    sites = [Site.objects.create(name=f"Site {i}") for i in range(20)]
    departments = [Department.objects.create(name=f"Department {i}") for i in range(10)]
    centres = [CostCentre.objects.create(code=f"CC-{i}", department=d) for i, d in enumerate(departments)]
    devices = [Device.objects.create(name=f"edge-{i:03d}", address=f"10.0.{i // 250}.{i % 250 + 1}",
                                     snmp_version="2c", snmp_community=f"community-{i}", site=sites[i % 20])
               for i in range(DEVICES)]
    types, statuses = list(LineType), list(LineStatus)
    lines = Line.objects.bulk_create(
        Line(name=f"LINE-{i:05d}", carrier=carriers[i % 5], circuit_id=f"CID-{i:06d}", type=types[i % len(types)],
             status=statuses[i % len(statuses)], site=sites[i % 20], department=departments[i % 10],
             cost_centre=centres[i % 10], capacity_bps=(i % 10 + 1) * 100_000_000, description=f"line {i}")
        for i in range(LINES))
    LineMember.objects.bulk_create(
        LineMember(line=line, device=devices[i % DEVICES], interface=f"ge-0/0/{i // DEVICES}")
        for i, line in enumerate(lines))


FLOOR_PATH = "/bench-floor/"


def _add_floor_url() -> None:
    """The floor: a one-line view behind the whole middleware stack, logged in (what Django itself costs here).
    Registered only in this process, before the application's URLs."""
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    import web.urls

    web.urls.urlpatterns.insert(0, path(FLOOR_PATH.strip("/") + "/", lambda request: HttpResponse("ok")))
    clear_url_caches()


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] * 1000  # the 95th percentile, in ms


def _measure(page: Callable[[], object], bare: Callable[[], object], repeat: int) -> dict[str, float]:
    """Page and bare SQL alternately (each pair sees the same load from other processes): wall-clock p95 of each,
    and the median CPU time of this process (less disturbed by the other processes on the cores)."""
    for _ in range(WARMUP):
        page()
        bare()
    wall: dict[str, list[float]] = {"page": [], "bare": []}
    cpu: dict[str, list[float]] = {"page": [], "bare": []}
    for _ in range(repeat):
        for name, run in (("page", page), ("bare", bare)):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {"page": _p95(wall["page"]), "bare": _p95(wall["bare"]),
            "page_cpu": statistics.median(cpu["page"]) * 1000, "bare_cpu": statistics.median(cpu["bare"]) * 1000}


def _tables() -> dict[str, str]:
    from web.inventory.models import Carrier, CostCentre, Department, Device, Line, LineMember, Site

    return {m.__name__: m._meta.db_table for m in (Carrier, CostCentre, Department, Device, Line, LineMember, Site)}


def _bare_list() -> None:
    from django.db import connection

    t = _tables()
    with connection.cursor() as cur:
        cur.execute(f'SELECT COUNT(*) FROM "{t["Line"]}"')
        cur.fetchall()
        cur.execute(
            f'SELECT l.*, c.name, s.name, d.name, cc.code FROM "{t["Line"]}" l '
            f'JOIN "{t["Carrier"]}" c ON c.id = l.carrier_id JOIN "{t["Site"]}" s ON s.id = l.site_id '
            f'JOIN "{t["Department"]}" d ON d.id = l.department_id '
            f'LEFT JOIN "{t["CostCentre"]}" cc ON cc.id = l.cost_centre_id ORDER BY l.name LIMIT {PAGE_SIZE}')
        ids = [row[0] for row in cur.fetchall()]
        cur.execute(f'SELECT m.*, dv.name FROM "{t["LineMember"]}" m JOIN "{t["Device"]}" dv ON dv.id = m.device_id '
                    f'WHERE m.line_id IN ({",".join("%s" for _ in ids)})', ids)
        cur.fetchall()


def _bare_inventory() -> None:
    from django.db import connection

    t = _tables()
    with connection.cursor() as cur:
        cur.execute(f'SELECT dv.*, s.name FROM "{t["Device"]}" dv LEFT JOIN "{t["Site"]}" s ON s.id = dv.site_id '
                    "ORDER BY dv.id")
        cur.fetchall()
        cur.execute(
            f'SELECT l.*, c.name, s.name, d.name, cc.code FROM "{t["Line"]}" l '
            f'JOIN "{t["Carrier"]}" c ON c.id = l.carrier_id JOIN "{t["Site"]}" s ON s.id = l.site_id '
            f'JOIN "{t["Department"]}" d ON d.id = l.department_id '
            f'LEFT JOIN "{t["CostCentre"]}" cc ON cc.id = l.cost_centre_id ORDER BY l.id')
        cur.fetchall()
        cur.execute(f'SELECT m.*, dv.name FROM "{t["LineMember"]}" m JOIN "{t["Device"]}" dv ON dv.id = m.device_id')
        cur.fetchall()


def _queries(run: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run()
    return len(ctx.captured_queries)


def _report(name: str, page: Callable[[], object], bare: Callable[[], object], repeat: int = REPEAT) -> None:
    queries = _queries(page)
    m = _measure(page, bare, repeat)
    print(f"bench web-lines{name}: {m['page']:.1f} ms | bare SQL: {m['bare']:.1f} ms | ratio {m['page'] / m['bare']:.2f}"
          f"  ({queries} queries, p95 of {repeat}, {LINES:,} lines; CPU median {m['page_cpu']:.1f} ms | "
          f"{m['bare_cpu']:.1f} ms, ratio {m['page_cpu'] / m['bare_cpu']:.2f})", flush=True)


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="lw-bench-web-"))
    try:
        _setup(state)
        _populate()
        from django.conf import settings
        from django.contrib.auth.models import Group, User
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        assert not settings.DEBUG, "DEBUG is on: no cached template loader, queries kept (production has it off)"
        user = User.objects.create_user("bench-viewer", password=None)
        user.groups.add(Group.objects.get(name="viewer"))
        client = Client()
        client.force_login(user)
        url = reverse("inventory:line_list")
        _add_floor_url()

        def floor() -> None:
            response = client.get(FLOOR_PATH)
            assert response.status_code == 200 and response.content == b"ok", response.status_code

        def line_list() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            assert response.content.count(b'">LINE-') == PAGE_SIZE, response.content.count(b'">LINE-')

        _report(" floor", floor, _bare_list)
        _report("", line_list, _bare_list)
        try:
            inventory_url = reverse("inventory_json")
        except NoReverseMatch:
            print("bench web-lines inventory: skipped (no /api/inventory.json yet)")
            return
        collector = Client(headers={"Authorization": f"Bearer {TOKEN}"})

        def inventory() -> None:
            response = collector.get(inventory_url)
            assert response.status_code == 200 and len(response.content) > LINES * 100

        _report(" inventory", inventory, _bare_inventory, INVENTORY_REPEAT)
    finally:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
