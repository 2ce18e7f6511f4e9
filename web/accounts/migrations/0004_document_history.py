"""Every role sees the documents' history in the change log (inventory.view_document, web/accounts/roles.py)."""

from django.db import migrations

from web.accounts.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = (
        ("accounts", "0003_admin_tokens_and_login_log"),
        ("inventory", "0003_document"),
    )
    operations = (migrations.RunPython(sync_roles, migrations.RunPython.noop),)
