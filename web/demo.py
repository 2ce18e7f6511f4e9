"""The management application's part of ``linewatch demo`` (``make run``), registered by name in ``linewatch.demo``.

``demo_web`` (a ``DEMO_SETUP`` entry, so the application is up before any stage reads from it):

1. ``python -m web.demo prepare`` in a subprocess: migrate a SQLite database under the demo's ``state_dir``
   (``run/var/web.sqlite3``), import the demo inventory (``lines.yaml``, ``contracts.yaml``, ``carriers.yaml``,
   through ``linewatch inventory import``) on first start, and
   create one demo user per role (:class:`linewatch.choices.Role`) whose password is generated, printed once and
   written to ``run/web-users.txt`` (mode 0600).
2. gunicorn serving ``web.wsgi`` (development settings: keys generated under ``state_dir``; whitenoise serves the
   static files) on ``127.0.0.1:18000`` (``$LINEWATCH_DEMO_WEB_ADDR`` to change) until the demo ends.
3. ``linewatch_worker`` next to it (the outbox and every app's periodic jobs, docs/notify.md), stopped with it.
   Both get ``web.alert_intake_token`` = the bearer token of alerts.yaml's ``linewatch-app`` webhook receiver,
   so the evaluator's alerts reach the application's intake.

``finance_stage`` (a ``DEMO_STAGES`` entry): once the billing stage has written its invoices and exports,
``python -m web.demo finance`` walks them through the finance workflow (web/demo_finance.py: intake of the drop
folder ``run/intake``, audit, disputes in each state, a credit note waiting to be matched, payments, budgets).

Django runs only in those subprocesses: the demo process itself never configures Django.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from linewatch.errors import LinewatchError

ADDR_ENV = "LINEWATCH_DEMO_WEB_ADDR"
DEFAULT_ADDR = "127.0.0.1:18000"
USERS_FILE = "web-users.txt"
DEMO_USER_NAME = "demo"  # the change log's user of the imported demo inventory
START_TIMEOUT_S = 120.0  # two shared cores: migrations and gunicorn's import of Django take a while
PASSWORD_BYTES = 12  # 16 URL-safe characters (the application's minimum length is 12)


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def _django_env(ctx: Any) -> dict[str, str]:
    """The subprocesses' environment: the demo's config file and its state_dir, development settings."""
    env = dict(os.environ)
    if ctx.settings.config_file is not None:
        env["LINEWATCH_CONFIG"] = str(ctx.settings.config_file)
    env["LINEWATCH_STATE_DIR"] = str(Path(ctx.settings.state_dir).resolve())
    env["DJANGO_SETTINGS_MODULE"] = "web.settings"
    return env


def _wait_until_serving(proc: subprocess.Popen, url: str, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise LinewatchError(f"the management application did not start on {url} (exit status "
                                 f"{proc.returncode}; is the port taken? set {ADDR_ENV}=127.0.0.1:PORT)")
        try:
            if requests.get(url + "login/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise LinewatchError(f"the management application did not answer {url}login/ within {timeout_s:g} s")
        time.sleep(0.5)


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@contextlib.contextmanager
def demo_web(ctx: Any) -> Iterator[None]:
    """Prepare the demo database and users, serve the application until the demo ends, then stop it.

    An application that cannot start (a taken port, a failed migration) is reported; the rest of the demo goes on.
    """
    try:
        proc, url, token = start(ctx)
    except (LinewatchError, OSError, subprocess.SubprocessError) as exc:
        say(f"management application not started: {exc}; the rest of the demo goes on (inventory from files)")
        yield
        return
    read_inventory_from_app(ctx, url=url, token=token)
    worker = start_worker(ctx)
    try:
        yield
    finally:
        stop_app(proc)
        say("management application stopped")
        stop_app(worker)
        say("management application worker stopped")


def _intake_env(ctx: Any) -> dict[str, str]:
    """``web.alert_intake_token``: configured, else the bearer token of alerts.yaml's webhook receiver(s)."""
    if ctx.settings.web.alert_intake_token is not None:
        return {}
    from alerting.config import load_alerts

    try:
        receivers = load_alerts(ctx.settings.resolve(ctx.settings.alerts_path)).receivers
    except (LinewatchError, OSError):
        return {}
    tokens = [r.webhook.bearer_token.get_secret_value() for r in receivers if r.webhook is not None]
    return {"LINEWATCH_WEB__ALERT_INTAKE_TOKEN": tokens[0]} if tokens else {}


def start_worker(ctx: Any) -> subprocess.Popen:
    """``linewatch web manage linewatch_worker`` with the application's settings (stop it with :func:`stop_app`)."""
    proc = subprocess.Popen([sys.executable, "-m", "web.manage", "linewatch_worker"],
                            env=_django_env(ctx) | _intake_env(ctx), start_new_session=True)
    say("management application worker started (outbox delivery, reminders)")
    return proc


def start(ctx: Any) -> tuple[subprocess.Popen, str, str]:
    """The demo's application, prepared and served with the demo's settings (``$LINEWATCH_DEMO_WEB_ADDR``):
    the server process, its URL and the collectors' inventory token (``web.inventory_token``, else generated)."""
    env = _django_env(ctx)
    configured = ctx.settings.web.inventory_token
    token = configured.get_secret_value() if configured else secrets.token_urlsafe(24)
    env["LINEWATCH_WEB__INVENTORY_TOKEN"] = token
    env |= _intake_env(ctx)
    addr = os.environ.get(ADDR_ENV) or DEFAULT_ADDR
    return start_app(env=env, addr=addr, run_dir=Path(ctx.run_dir)), f"http://{addr}/", token


def read_inventory_from_app(ctx: Any, *, url: str, token: str) -> None:
    """The demo's collector and alert evaluator read the inventory from the application (``inventory.source:
    http``) every cycle, keeping the last good copy under the run directory: a change in the UI reaches them."""
    from linewatch.choices import InventorySource
    from linewatch.settings import InventorySettings

    inventory = InventorySettings(source=InventorySource.HTTP, url=url + "api/inventory.json", token=token,
                                  cache_path=Path(ctx.settings.state_dir).resolve() / "inventory-cache.json")
    ctx.settings = ctx.settings.model_copy(update={"inventory": inventory})
    say(f"the demo's collector and alert evaluator read their inventory from {inventory.url} "
        "(a line changed there is polled next cycle)")


def start_app(*, env: dict[str, str], addr: str, run_dir: Path) -> subprocess.Popen:
    """Run ``prepare``, then gunicorn on ``addr``; return the server process once the login page answers.

    ``env`` names the settings (``LINEWATCH_CONFIG``, ``LINEWATCH_STATE_DIR``, ``DJANGO_SETTINGS_MODULE``, keys);
    the browser tests start the same server with the test keys. Stop it with :func:`stop_app`.
    """
    # whitenoise serves the apps' own static files (finders); it warns at every start when STATIC_ROOT is missing.
    if "LINEWATCH_STATE_DIR" in env:
        (Path(env["LINEWATCH_STATE_DIR"]) / "web-static").mkdir(parents=True, exist_ok=True)
    prepare = subprocess.run(
        [sys.executable, "-m", "web.demo", "prepare", "--run-dir", str(run_dir)], env=env, timeout=600, check=False)
    if prepare.returncode != 0:
        raise LinewatchError(f"preparing its demo database failed (exit status {prepare.returncode}, see above)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", addr, "--workers", "2", "--threads", "4",
         "--log-level", "warning", "--graceful-timeout", "10", "web.wsgi"],
        env=env, start_new_session=True)  # the demo stops it (Ctrl-C reaches the demo, not gunicorn)
    url = f"http://{addr}/"
    try:
        _wait_until_serving(proc, url, timeout_s=START_TIMEOUT_S)
    except BaseException:
        stop_app(proc)
        raise
    say(f"management application: {url} (users and passwords: {run_dir / USERS_FILE})")
    return proc


# --- inside the subprocess (Django configured) ---------------------------------------------------------------


def import_demo_inventory(settings: Any) -> str:
    """The demo inventory (the settings' lines.yaml, contracts.yaml, carriers.yaml) through ``linewatch inventory
    import`` (:func:`web.inventory.io.import_dir`: validated as a whole, all or nothing, change-logged).

    The importer reads a folder with the standard file names; files named otherwise are copied to one first.
    """
    import shutil
    import tempfile

    from web.inventory import io

    files = {io.LINES_FILE: settings.resolve(settings.inventory_path),
             io.CONTRACTS_FILE: settings.resolve(settings.contracts_path),
             io.CARRIERS_FILE: settings.resolve(settings.carriers_path)}
    folders = {path.parent for path in files.values()}
    if len(folders) == 1 and all(path.name == name for name, path in files.items()):
        return io.import_dir(folders.pop(), user_name=DEMO_USER_NAME).summary()
    with tempfile.TemporaryDirectory(prefix="linewatch-demo-inventory-") as tmp:
        for name, path in files.items():
            if path.exists():
                shutil.copyfile(path, Path(tmp) / name)
        return io.import_dir(tmp, user_name=DEMO_USER_NAME).summary()


def ensure_demo_users(users_path: Path) -> list[tuple[str, str]]:
    """One user per role, named after it. Returns the (user, password) pairs made now (printed once by the caller).

    While ``users_path`` exists only missing users are created (and appended); without it every demo user gets a
    new password, so the file always holds working ones.
    """
    from django.contrib.auth.models import Group, User

    from linewatch.choices import Role
    from linewatch.fileperms import write_private

    existing = users_path.read_text().splitlines() if users_path.exists() else []
    known = {line.split()[0] for line in existing if line.strip() and not line.startswith("#")}
    made = []
    for role in Role:
        if role.value in known and User.objects.filter(username=role.value).exists():
            continue
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        user, _ = User.objects.get_or_create(username=role.value)
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        made.append((role.value, password))
    if made:
        kept = [line for line in existing if line.strip() and not line.startswith("#")
                and line.split()[0] not in {u for u, _ in made}]
        header = "# linewatch demo users of the management application: user password (one per role)"
        write_private(users_path, "\n".join([header, *kept, *(f"{u} {p}" for u, p in made)]) + "\n")
    return made


def prepare(run_dir: Path) -> None:
    """Migrate, import the demo inventory into an empty database, make the demo users; print new passwords once."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from linewatch.settings import load_settings
    from web.audit.context import change_context
    from web.inventory.models import Line

    call_command("migrate", "--noinput", verbosity=0)
    settings = load_settings()
    with transaction.atomic(), change_context(user_name=DEMO_USER_NAME):
        if not Line.objects.exists():  # first start: later starts keep what was changed in the application
            summary = import_demo_inventory(settings)
            say(f"management application: demo inventory imported ({summary})")
        made = ensure_demo_users(run_dir / USERS_FILE)
        from web.inspections import demo as inspections_demo

        if plans := inspections_demo.seed():
            say(f"management application: {plans} demo inspection plans, one inspection due this week each")
        from web.orders import demo as orders_demo

        if orders := orders_demo.seed():
            say(f"management application: {orders} demo orders (PAR-INET-2 new, FRA-MPLS-1 upgrade, LON-MPLS-1 "
                "termination; AMS-INET-1 in acceptance)")
        from web.faults import demo as faults_demo

        if faults_demo.seed():
            say("management application: one fault ticket in progress with the carrier's reference")
        from web.inventory import demo as inventory_demo

        if window := inventory_demo.seed_maintenance():
            say(f"management application: planned maintenance {window.key} ({window.carrier_reference}) on "
                f"{inventory_demo.LINE}, {window.starts:%H:%M}-{window.ends:%H:%M} UTC")
        from web.voice import demo as voice_demo

        if directory := voice_demo.seed():
            say(f"management application: extension directory imported ({directory.created} entries, "
                "config/extensions.csv)")
    for user, password in made:
        say(f"  demo user {user:<9} password {password}")
    if made:
        say(f"  (written to {run_dir / USERS_FILE}, mode 0600; shown only this once)")


FINANCE_WAIT_S = 900.0  # the billing stage measures a month of usage and renders PDFs first


def finance_stage(ctx: Any) -> None:
    """Once this run's billing stage wrote last month's export, ``python -m web.demo finance`` (a subprocess:
    Django is configured there) walks the demo invoices through the finance workflow."""
    import datetime as dt

    from billing_etl.model import Period

    started = time.time()
    period = Period.containing(dt.datetime.now(dt.UTC).date()).previous()
    export = Path(ctx.run_dir) / "exports" / f"billing-{period}.xlsx"
    deadline = time.monotonic() + FINANCE_WAIT_S
    while not (export.exists() and export.stat().st_mtime >= started - 1):
        if ctx.stop_event.wait(2.0) or time.monotonic() > deadline:
            say(f"finance: {export.name} not written by the billing stage; the finance demo did not run")
            return
    proc = subprocess.Popen([sys.executable, "-m", "web.demo", "finance", "--run-dir", str(ctx.run_dir)],
                            env=_django_env(ctx))
    while proc.poll() is None:
        if ctx.stop_event.wait(1.0):  # the demo ends: so does its finance walk
            stop_app(proc)
            return
    if proc.returncode != 0:
        say(f"finance: the finance demo failed (exit status {proc.returncode}, see above)")


def finance(run_dir: Path) -> None:
    """The finance chain of web/demo_finance.py on the demo run directory; prints what it did."""
    import django

    django.setup()
    from web import demo_finance

    for line in demo_finance.summary(demo_finance.run(run_dir)):
        demo_finance.say(line)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m web.demo")
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="migrate, import the demo inventory, create the demo users")
    pp.add_argument("--run-dir", type=Path, required=True)
    fp = sub.add_parser("finance", help="walk the demo invoices through the finance workflow (after billing)")
    fp.add_argument("--run-dir", type=Path, required=True)
    args = p.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    if args.command == "finance":
        finance(args.run_dir.resolve())
    else:
        prepare(args.run_dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
