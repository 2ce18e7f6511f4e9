"""``linewatch web …``: the management application's commands (registered in linewatch/cli.py).

``migrate`` and ``runserver`` are the common ones; ``manage`` passes anything else to Django's
``manage.py`` (``linewatch web manage createsuperuser``). ``--production`` uses ``web.settings_production``.
"""

from __future__ import annotations

import argparse
import os

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


def _django(args: argparse.Namespace) -> int:
    if args.config:
        os.environ["LINEWATCH_CONFIG"] = args.config
    if args.production:
        os.environ["DJANGO_SETTINGS_MODULE"] = "web.settings_production"  # even if the shell names another
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    from web.manage import main

    return main(args.django_args(args))
