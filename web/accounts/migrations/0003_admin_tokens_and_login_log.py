"""The admin role sees and revokes every user's API tokens and reads the login log (web/accounts/roles.py)."""

from django.db import migrations

from web.accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = (
        ("accounts", "0002_api_tokens"),
        ("logins", "0001_initial"),
    )
    operations = (migrations.RunPython(sync_roles, migrations.RunPython.noop),)
