"""Django settings of the web service in docker-compose.yml: the production settings (web.settings_production), with
two paths answered over plain HTTP inside the compose network instead of being redirected to HTTPS: the health
check (``/-/health``, compose's own probe) and the collectors' ``/api/inventory.json`` (collector and alert
evaluator call ``http://web:8000``). Browsers reach the app through a TLS proxy in front of the published port
(docs/docker.md), as the production settings require (secure ``__Host-`` cookies, HSTS)."""

from web.settings_production import *

SECURE_REDIRECT_EXEMPT = [r"^-/health$", r"^api/inventory\.json$"]
