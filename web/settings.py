"""Development settings (``linewatch web runserver``): the common ones, with keys generated into ``state_dir``
when linewatch's settings give none (``web.secret_key``, ``web.credentials_key``; docs/web.md)."""

from __future__ import annotations

from web.keys import credentials_keys, secret_key
from web.settings_common import *
from web.settings_common import _WEB, STATE_DIR

SECRET_KEY = secret_key(_WEB.secret_key, state_dir=STATE_DIR)
LINEWATCH_CREDENTIALS_KEYS = credentials_keys(_WEB.credentials_key, state_dir=STATE_DIR)
