"""Strict YAML loading: every value keeps its line number so errors can say ``file:line: key: reason``.

All configuration files go through :func:`load_model`; it returns a validated pydantic model or raises
:class:`~linewatch.errors.ConfigError` listing every problem (not only the first).

Hostile or broken files are refused with a located problem, never a traceback or a hang:

* a file larger than :data:`MAX_YAML_BYTES` (override: ``$LINEWATCH_YAML_MAX_BYTES``) is not parsed at all;
* YAML aliases (``*name``) are refused: they are how an "alias bomb" of a few hundred bytes expands into billions
  of values, and no linewatch file needs them; anchors alone are harmless and ignored;
* nesting deeper than :data:`MAX_YAML_DEPTH` levels is refused;
* a scalar YAML cannot convert (``2026-02-30``, an integer of 5,000 digits, an unknown ``!tag``) becomes a problem
  naming its line and key.

Parsing uses libyaml's C parser (``yaml.CSafeLoader``) when PyYAML was built with it, else the pure-Python one;
both keep the line of every node.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, SecretStr, ValidationError

from linewatch.errors import ConfigError, Problem
from linewatch.logfilter import register_secret

M = TypeVar("M", bound=BaseModel)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

MAX_YAML_BYTES = 8 * 1024 * 1024
"""Largest configuration file read (8 MiB: an inventory of ~30,000 lines); ``$LINEWATCH_YAML_MAX_BYTES`` overrides."""
MAX_YAML_BYTES_ENV = "LINEWATCH_YAML_MAX_BYTES"
MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (linewatch's own files need fewer than 10 levels)."""
YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if yaml.__with_libyaml__ else yaml.SafeLoader
"""The loader used to compose files: libyaml's C loader when available (much faster), else PyYAML's own."""
_STR_TAG = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_TAG_NAMES = {"tag:yaml.org,2002:int": "integer", "tag:yaml.org,2002:float": "number",
              "tag:yaml.org,2002:timestamp": "date", "tag:yaml.org,2002:bool": "boolean",
              "tag:yaml.org,2002:binary": "binary value"}


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


def _registered(value: SecretStr) -> SecretStr:
    register_secret(value.get_secret_value())
    return value


EnvSecretStr = Annotated[SecretStr, BeforeValidator(expand_env), AfterValidator(_registered)]
"""A secret that may be written as ``${ENV_VAR}`` so the file itself holds no secret; once loaded it is masked in
every log record (:mod:`linewatch.logfilter`), including what HTTP libraries log under ``-vv``."""
PathKey = tuple[str | int, ...]


class Located:
    """YAML data plus the line number of every mapping key and sequence item."""

    def __init__(self, file: str, data: Any, lines: dict[PathKey, int], *, empty: bool = False):
        self.file = file
        self.data = data
        self.lines = lines
        self.empty = empty

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


class _Builder:
    """Plain data from a composed YAML node tree, recording lines and refusing aliases, depth and bad scalars.

    Each node is visited once: a node reached a second time is an alias (the composer shares the anchored node),
    so it is reported and not descended into — an alias bomb costs as much as its few hundred bytes.
    """

    def __init__(self, file: str, text: str):
        self.file = file
        self._text = text
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []
        self._seen: set[int] = set()
        self._aliases: list[tuple[int, PathKey, int]] = []  # (line of use, path, line of the anchor)
        self._too_deep: tuple[int, PathKey] | None = None
        self._scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node) -> Any:
        data = self._node(node, (), node.start_mark.line + 1, 0)
        if self._aliases:
            _, path, anchor = self._aliases[0]
            line = self._first_alias_line()
            more = f"; {len(self._aliases)} aliases in this file" if len(self._aliases) > 1 else ""
            self.problems.append(Problem(self.file, line, dotted(path),
                                         f"YAML aliases are not allowed (this repeats the anchor at line {anchor})"
                                         f"{more}: write the value out"))
        if self._too_deep is not None:
            line, path = self._too_deep
            self.problems.append(Problem(self.file, line, dotted(path),
                                         f"nested deeper than {MAX_YAML_DEPTH} levels"))
        return data

    def _first_alias_line(self) -> int | None:
        """The line of the first ``*alias`` (nodes do not record where an alias was written; events do)."""
        try:
            for event in yaml.parse(self._text, Loader=YAML_LOADER):
                if isinstance(event, yaml.AliasEvent):
                    return event.start_mark.line + 1
        except yaml.YAMLError:  # pragma: no cover - the text was composed already
            pass
        return self._aliases[0][0]

    def _node(self, node: yaml.Node, path: PathKey, used_at: int, depth: int) -> Any:
        if id(node) in self._seen:
            self._aliases.append((used_at, path, node.start_mark.line + 1))
            return None
        self._seen.add(id(node))
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _COLLECTION_TAGS:
            self.problems.append(Problem(self.file, node.start_mark.line + 1, dotted(path),
                                         f"unsupported YAML tag {node.tag[:60]!r}"))
            return None
        if depth >= MAX_YAML_DEPTH:
            if self._too_deep is None:
                self._too_deep = (node.start_mark.line + 1, path)
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode) or id(key_node) in self._seen:
                    self.problems.append(Problem(self.file, key_line, dotted(path),
                                                 "keys must be plain words, not lists, mappings or aliases"))
                    continue
                self._seen.add(id(key_node))
                key = str(key_node.value)
                child = (*path, key)
                if key in out:
                    self.problems.append(Problem(self.file, key_line, dotted(child), "duplicate key"))
                out[key] = self._node(value_node, child, key_line, depth + 1)
                self.lines[child] = key_line
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._node(item, (*path, i), item.start_mark.line + 1, depth + 1)
                    for i, item in enumerate(node.value)]
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover - the composer makes only these three

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (ValueError, OverflowError, ArithmeticError, yaml.YAMLError) as exc:
            self.problems.append(Problem(self.file, node.start_mark.line + 1, dotted(path),
                                         _scalar_reason(node, exc)))
            return None


def _scalar_reason(node: yaml.ScalarNode, exc: Exception) -> str:
    """Why a scalar cannot be converted, without repeating a value that may be huge (or a secret)."""
    kind = _TAG_NAMES.get(node.tag)
    if kind is None:
        return f"unsupported YAML tag {node.tag[:60]!r}; quote the value if it is text"
    if kind == "integer" and len(node.value) > 100:
        return f"integer of {len(node.value)} characters is too long"
    detail = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
    return f"not a valid {kind} ({detail[:200]}); quote it if it is meant as text"


def max_yaml_bytes() -> int:
    """The size limit in force: ``$LINEWATCH_YAML_MAX_BYTES`` if set to a positive integer, else the default."""
    raw = os.environ.get(MAX_YAML_BYTES_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else MAX_YAML_BYTES


def _read_text(path: Path | str, file: str) -> str:
    limit = max_yaml_bytes()
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise ConfigError([Problem(file, None, "", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(file, None, "", f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > limit:
        raise ConfigError([Problem(file, None, "", f"file is larger than {limit} bytes, the most a configuration "
                                                   f"file may have (set {MAX_YAML_BYTES_ENV} to allow more)")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError([Problem(file, line, "", f"not UTF-8 text (byte {exc.start}: {exc.reason})")]) from None


def load_located(path: Path | str) -> Located:
    """Read a YAML file, keeping line numbers. Raises ConfigError for unreadable, oversized or malformed files.

    ``Located.empty`` tells a file with no document at all (empty, or only comments) from one holding ``{}``.
    """
    file = str(path)
    text = _read_text(path, file)
    try:
        node = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file, line, "", f"invalid YAML: {reason}")]) from None
    if node is None:
        return Located(file, {}, {}, empty=True)
    builder = _Builder(file, text)
    data = builder.build(node)
    if builder.problems:
        raise ConfigError(builder.problems)
    return Located(file, data, builder.lines)


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
