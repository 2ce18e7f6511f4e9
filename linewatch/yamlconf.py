"""Strict YAML loading: every value keeps its line number so errors can say ``file:line: key: reason``.

All configuration files go through :func:`load_model`; it returns a validated pydantic model or raises
:class:`~linewatch.errors.ConfigError` listing every problem (not only the first).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, SecretStr, ValidationError

from linewatch.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: object) -> object:
    """Replace ``${VAR}`` by the environment variable; an unset variable is an error naming it (never the value)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(sub, value)


EnvSecretStr = Annotated[SecretStr, BeforeValidator(expand_env)]
"""A secret that may be written as ``${ENV_VAR}`` so the file itself holds no secret."""
PathKey = tuple[str | int, ...]


class Located:
    """YAML data plus the line number of every mapping key and sequence item."""

    def __init__(self, file: str, data: Any, lines: dict[PathKey, int]):
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its nearest located parent."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: PathKey, reason: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), reason)


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _construct(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], problems: list[Problem], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
            key = str(key)
            child = (*path, key)
            if key in out:
                problems.append(Problem(file, key_node.start_mark.line + 1, dotted(child), "duplicate key"))
            out[key] = _construct(value_node, child, lines, problems, file)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, problems, file) for i, item in enumerate(node.value)]
    # Scalars: let the safe constructor resolve ints, floats, bools, dates, nulls.
    return yaml.SafeLoader(yaml.serialize(node)).get_single_data() if node.tag != "tag:yaml.org,2002:str" else node.value


def load_located(path: Path | str) -> Located:
    """Read a YAML file, keeping line numbers. Raises ConfigError for unreadable or malformed files."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(file, None, "", f"cannot read: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file, line, "", f"invalid YAML: {reason}")]) from None
    lines: dict[PathKey, int] = {}
    problems: list[Problem] = []
    data = {} if node is None else _construct(node, (), lines, problems, file)
    if problems:
        raise ConfigError(problems)
    return Located(file, data, lines)


def validation_problems(located: Located, exc: ValidationError, prefix: PathKey = ()) -> list[Problem]:
    """Turn pydantic's errors into located problems. Input values are never echoed (they may be secrets)."""
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        keep_last = err["type"] in ("extra_forbidden", "missing")
        loc = (*prefix, *_data_path(_descend(located.data, prefix), err["loc"], keep_last=keep_last))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.append(located.problem(loc, msg))
    return problems


def _descend(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _data_path(data: Any, loc: tuple[str | int, ...], *, keep_last: bool) -> PathKey:
    """pydantic's error location reduced to keys that exist in the file.

    Union members and discriminator tags (``snmp.3.auth_protocol``) and validator names are not keys of the
    data; they are dropped, except as the last element (a missing or unknown key names itself).
    """
    out: list[str | int] = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(data, dict) and part in data:
            data = data[part]
            out.append(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
            out.append(part)
        elif last and keep_last and isinstance(data, dict):
            out.append(part)
    return tuple(out)


def load_model(path: Path | str, model: type[M], *, context: dict[str, Any] | None = None) -> tuple[M, Located]:
    """Load ``path`` and validate it as ``model``; raise ConfigError with every problem located."""
    located = load_located(path)
    if not isinstance(located.data, dict):
        raise ConfigError([Problem(located.file, 1, "", "expected a mapping at the top level")])
    try:
        return model.model_validate(located.data, context=context), located
    except ValidationError as exc:
        raise ConfigError(validation_problems(located, exc)) from None
