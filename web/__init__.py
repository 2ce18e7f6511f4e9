"""linewatch's management application: a Django project, one app per domain (docs/web.md).

``web.settings`` reads the database and keys from linewatch's settings (``web:`` in linewatch.yaml or
``LINEWATCH_WEB__*``); ``web.settings_production`` adds secure cookies, HSTS and refuses generated keys.
"""
