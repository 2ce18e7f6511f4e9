"""Loading the areas' entry points by name (``"module"`` or ``"module:function"``), so the core never imports them.

An area that is not installed is optional where the caller says so: only a missing module *itself* counts as
absent; an import error inside an installed area is a bug and is raised.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


def import_module(name: str, *, optional: bool = False) -> ModuleType | None:
    """Import ``name``; with ``optional``, None when that module (or a parent package) does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if optional and exc.name and name.startswith(exc.name):
            return None
        raise


def load(spec: str, *, optional: bool = False) -> Callable[..., Any] | None:
    """The function named by ``"module:function"``; with ``optional``, None when the module does not exist."""
    module_name, _, func = spec.partition(":")
    module = import_module(module_name, optional=optional)
    return None if module is None else getattr(module, func)
