"""Strict YAML loading: every value keeps its line number so errors can say ``file:line: key: reason``.

All configuration files go through :func:`load_model`; it returns a validated pydantic model or raises
:class:`~linewatch.errors.ConfigError` listing every problem (not only the first).

Hostile or broken files are refused with a located problem, never a traceback or a hang:

* a file larger than :data:`MAX_YAML_BYTES` (override: ``$LINEWATCH_YAML_MAX_BYTES``) is not parsed at all;
* YAML aliases (``*name``) are refused where they are written, never expanded: they are how an "alias bomb" of a
  few hundred bytes expands into billions of values, and no linewatch file needs them; anchors alone are ignored;
* nesting deeper than :data:`MAX_YAML_DEPTH` levels is refused;
* a scalar YAML cannot convert (``2026-02-30``, an integer of 5,000 digits, an unknown ``!tag``) becomes a problem
  naming its line and key.

Parsing uses libyaml's C parser (``yaml.CSafeLoader``) when PyYAML was built with it, else the pure-Python one;
the data is built from the parser's events (both give each event its line), with PyYAML's own tag resolver and
safe constructor, so values are exactly what ``yaml.safe_load`` would give.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
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
"""The loader whose parser reads files: libyaml's C loader when available (much faster), else PyYAML's own."""
_STR_TAG = "tag:yaml.org,2002:str"
_INT64 = 2**63
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


_DISCARD = object()  # the key of a value that is read (to stay in step) but not kept: its key was refused


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: PathKey
    key: tuple[Any, int] | None = None  # (key, line) waiting for its value, in a mapping


class _Builder:
    """Plain data and the line of every key and item, built from the parser's events in one pass.

    Built from events rather than from a composed node graph: an alias (``*name``) is an event of its own, so it is
    refused where it is written and never expanded (an alias bomb costs what its few hundred bytes cost); nesting
    is tracked on an explicit stack (no recursion); and libyaml's C parser delivers events faster than its composer
    builds nodes (``python -m bench yaml-config``). Tags are resolved and scalars converted exactly as
    ``yaml.safe_load`` does.
    """

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []
        self.documents = 0
        self._aliases: list[tuple[int, PathKey, str]] = []  # (line, path, anchor name)
        self._too_deep = False
        self._resolver = yaml.resolver.Resolver()
        self._constructor = yaml.constructor.SafeConstructor()

    def build(self, events: Iterable[yaml.Event]) -> Any:
        root: Any = None
        stack: list[_Frame] = []
        skip = 0  # > 0 while inside a collection that is refused (too deep, bad tag, used as a key)
        for event in events:
            if skip:
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    skip += 1
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    skip -= 1
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise ConfigError([Problem(self.file, event.start_mark.line + 1, "",
                                               "invalid YAML: expected a single document in the stream")])
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue  # stream start/end, document end
            line = event.start_mark.line + 1
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame.container, dict) and frame.key is None:
                if isinstance(event, yaml.ScalarEvent):
                    frame.key = (str(event.value), line)
                    continue
                self.problems.append(Problem(self.file, line, dotted(frame.path),
                                             "keys must be plain words, not lists, mappings or aliases"))
                frame.key = (_DISCARD, line)
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    skip = 1
                continue
            if frame is None:
                path: PathKey = ()
            elif isinstance(frame.container, dict):
                assert frame.key is not None
                path = (*frame.path, frame.key[0]) if frame.key[0] is not _DISCARD else frame.path
            else:
                path = (*frame.path, len(frame.container))
            value: Any = None
            child: _Frame | None = None
            if isinstance(event, yaml.AliasEvent):
                self._aliases.append((line, path, str(event.anchor)[:40]))
            elif isinstance(event, yaml.ScalarEvent):
                value = self._scalar(event, path, line)
            else:
                kind = yaml.MappingNode if isinstance(event, yaml.MappingStartEvent) else yaml.SequenceNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self._resolver.resolve(kind, None, event.implicit)
                if tag not in _COLLECTION_TAGS:
                    self.problems.append(Problem(self.file, line, dotted(path),
                                                 f"unsupported YAML tag {tag[:60]!r}"))
                    skip = 1
                elif len(stack) >= MAX_YAML_DEPTH:
                    if not self._too_deep:
                        self.problems.append(Problem(self.file, line, dotted(path),
                                                     f"nested deeper than {MAX_YAML_DEPTH} levels"))
                    self._too_deep = True
                    skip = 1
                else:
                    value = {} if kind is yaml.MappingNode else []
                    child = _Frame(value, path)
            if frame is None:
                root = value
                self.lines[()] = line
            elif isinstance(frame.container, dict):
                assert frame.key is not None
                key, key_line = frame.key
                frame.key = None
                if key is not _DISCARD:
                    if key in frame.container:
                        self.problems.append(Problem(self.file, key_line, dotted(path), "duplicate key"))
                    frame.container[key] = value
                    self.lines[path] = key_line
            else:
                frame.container.append(value)
                self.lines[path] = line
            if child is not None:
                stack.append(child)
        if self._aliases:
            line, path, anchor = self._aliases[0]
            more = f"; {len(self._aliases)} aliases in this file" if len(self._aliases) > 1 else ""
            self.problems.append(Problem(self.file, line, dotted(path),
                                         f"YAML aliases are not allowed (*{anchor}{more}): write the value out"))
        return root

    def _scalar(self, event: yaml.ScalarEvent, path: PathKey, line: int) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self._resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, OverflowError, ArithmeticError, yaml.YAMLError) as exc:
            self.problems.append(Problem(self.file, line, dotted(path), _scalar_reason(node, exc)))
            return None
        if type(value) is int and not -_INT64 <= value < _INT64:
            self.problems.append(Problem(self.file, line, dotted(path),
                                         "integer out of range: at most 64 bits (InfluxDB and SQLite store no more)"))
            return None
        return value


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
    builder = _Builder(file)
    try:
        data = builder.build(yaml.parse(text, Loader=YAML_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(file, line, "", f"invalid YAML: {reason}")]) from None
    if builder.problems:
        raise ConfigError(builder.problems)
    if data is None:
        return Located(file, {}, {}, empty=True)
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
