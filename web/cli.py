"""``linewatch web …``: the management application's commands (registered in linewatch/cli.py).

``migrate`` and ``runserver`` are the common ones; ``manage`` passes anything else to Django's
``manage.py`` (``linewatch web manage createsuperuser``). ``--production`` uses ``web.settings_production``.
"""

from __future__ import annotations

import argparse
import os
import sys

from linewatch.choices import ExitCode

DEFAULT_ADDRPORT = "127.0.0.1:18000"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web", help="the management application (Django): migrate, runserver, manage …")
    p.add_argument("--production", action="store_true",
                   help="production settings (secure cookies, HSTS; keys must be given): docs/web.md")
    web_sub = p.add_subparsers(dest="web_command", required=True, metavar="WEB_COMMAND")
    m = web_sub.add_parser("migrate", help="create or upgrade the application's database")
    m.set_defaults(func=_django, django_args=lambda a: ["migrate", "--noinput"])
    r = web_sub.add_parser("runserver", help=f"development server (default {DEFAULT_ADDRPORT})")
    r.add_argument("addrport", nargs="?", default=DEFAULT_ADDRPORT)
    r.add_argument("--noreload", action="store_true", help="do not restart on code changes (one process)")
    r.set_defaults(func=_django,
                   django_args=lambda a: ["runserver", a.addrport, *(["--noreload"] if a.noreload else [])])
    g = web_sub.add_parser("manage", help="any Django management command: linewatch web manage check --deploy")
    g.add_argument("args", nargs=argparse.REMAINDER)
    g.set_defaults(func=_django, django_args=lambda a: list(a.args))
    _register_inventory(sub)
    _register_reports(sub)


def _register_reports(sub: argparse._SubParsersAction) -> None:
    from web.reports.cli import register as register_reports

    register_reports(sub)  # linewatch report render/list (docs/reports.md)


def _register_inventory(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inventory", help="import or export the application's inventory as lines.yaml/contracts.yaml")
    p.add_argument("--production", action="store_true", help="production settings (docs/web.md)")
    inv_sub = p.add_subparsers(dest="inventory_command", required=True, metavar="INVENTORY_COMMAND")
    i = inv_sub.add_parser("import", help="make the database match DIR/lines.yaml, contracts.yaml (carriers.yaml): "
                                          "all or nothing")
    i.add_argument("dir", help="folder with lines.yaml (and contracts.yaml, carriers.yaml)")
    i.add_argument("--user", default="import", help="name the change log gives the changes (default: import)")
    i.set_defaults(func=_inventory_import)
    e = inv_sub.add_parser("export", help="write DIR/lines.yaml and contracts.yaml from the database")
    e.add_argument("dir")
    e.add_argument("--secrets", choices=("env", "clear"), default="env",
                   help="SNMP secrets as ${LINEWATCH_SNMP_…} references (default) or in clear (file mode 0600)")
    e.set_defaults(func=_inventory_export)


def _setup_django(args: argparse.Namespace) -> None:
    if args.config:
        os.environ["LINEWATCH_CONFIG"] = args.config
    if args.production:
        os.environ["DJANGO_SETTINGS_MODULE"] = "web.settings_production"
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()


def _inventory_import(args: argparse.Namespace) -> int:
    _setup_django(args)
    from web.inventory.io import import_dir

    result = import_dir(args.dir, user_name=args.user)  # ConfigError: printed by linewatch's CLI, exit 2
    print(f"inventory imported from {args.dir}: {result.summary()}")
    return ExitCode.OK


def _inventory_export(args: argparse.Namespace) -> int:
    _setup_django(args)
    from web.inventory.io import export_dir

    result = export_dir(args.dir, secrets=args.secrets)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.env_vars:
        print("the SNMP secrets are references; set these variables before importing or loading the files: "
              + " ".join(result.env_vars), file=sys.stderr)
    print("exported " + ", ".join(str(f) for f in result.files))
    return ExitCode.OK


def _django(args: argparse.Namespace) -> int:
    if args.config:
        os.environ["LINEWATCH_CONFIG"] = args.config
    if args.production:
        os.environ["DJANGO_SETTINGS_MODULE"] = "web.settings_production"  # even if the shell names another
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    from web.manage import main

    return main(args.django_args(args))
