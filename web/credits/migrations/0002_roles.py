"""The credit matches' permissions given to the roles (web/accounts/roles.py)."""

from django.db import migrations

from web.accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = (
        ("credits", "0001_initial"),
        ("accounts", "0004_document_history"),
    )
    operations = (migrations.RunPython(sync_roles, migrations.RunPython.noop),)
