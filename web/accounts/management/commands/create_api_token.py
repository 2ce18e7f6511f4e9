"""``linewatch web manage create_api_token USER --name NAME [--scope read|write] [--expires-days N]``.

Prints the new token once, on stdout alone (for scripts: ``TOKEN=$(linewatch web manage create_api_token …)``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from linewatch.choices import TokenScope
from web.accounts.tokens import Token
from web.audit.context import change_context


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="user name of the token's owner")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--scope", choices=[s.value for s in TokenScope], default=TokenScope.READ.value,
                            help="read: GET only; write: also changes, within the user's role (default read)")
        parser.add_argument("--expires-days", type=int, default=None, help="valid for N days (default: no expiry)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"user {options['user']!r} does not exist") from None
        days = options["expires_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-days: give a positive number of days")
        expires = timezone.now() + timedelta(days=days) if days else None
        with change_context(user_name="create_api_token"):
            token, key = Token.create(user=user, name=options["name"], scope=TokenScope(options["scope"]),
                                      expires=expires)
        self.stderr.write(f"token {token.key_prefix}… ({token.scope}) for {user}: shown once, store it now")
        self.stdout.write(key)
