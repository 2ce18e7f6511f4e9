"""The flow receiver's state on disk: templates, sampling, system init times, the last bucket written.

One SQLite file (stdlib ``sqlite3``, WAL), a row per template and per (exporter, version, domain). A save writes
only what changed since the last one (:attr:`TemplateCache.dirty_templates` ...), in one transaction: a template
storm no longer rewrites the whole cache every second, and a crash leaves the last committed state. The file is
created 0600 in a 0700 folder (:mod:`linewatch.fileperms`; SQLite gives its WAL files the same mode).

A JSON cache of earlier versions (``flow-templates.json`` next to the configured file, or the configured file
itself when it holds JSON) is imported once; the JSON file is renamed ``*.imported`` after the first save.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from pathlib import Path

from collector.flows.netflow import (
    MAX_TEMPLATE_FIELDS_PER_EXPORTER,
    MAX_TEMPLATES_PER_EXPORTER,
    Template,
    TemplateCache,
)
from linewatch.fileperms import ensure_private_dir, ensure_private_file

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    exporter TEXT NOT NULL, version INTEGER NOT NULL, domain INTEGER NOT NULL, template_id INTEGER NOT NULL,
    scope_fields INTEGER NOT NULL, fields TEXT NOT NULL,
    PRIMARY KEY (exporter, version, domain, template_id));
CREATE TABLE IF NOT EXISTS domains (
    exporter TEXT NOT NULL, version INTEGER NOT NULL, domain INTEGER NOT NULL,
    sampling_interval INTEGER, system_init_ms INTEGER,
    PRIMARY KEY (exporter, version, domain));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
LEGACY_NAME = "flow-templates.json"


class TemplateStore:
    """Load a :class:`TemplateCache` from ``path`` and save its changes incrementally."""

    def __init__(self, path: Path | str, *, max_templates: int = MAX_TEMPLATES_PER_EXPORTER,
                 max_fields: int = MAX_TEMPLATE_FIELDS_PER_EXPORTER):
        self.path = Path(path)
        self._limits = {"max_templates": max_templates, "max_fields": max_fields}
        self._conn: sqlite3.Connection | None = None
        self.rows_written = 0  # cumulative, for tests and stats
        self._imported_from: Path | None = None  # a legacy JSON file, renamed once its content is saved here

    # -- connection ---------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            ensure_private_dir(self.path.parent)
            ensure_private_file(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(SCHEMA)
            except sqlite3.DatabaseError:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- load ---------------------------------------------------------------------------------------------

    def load(self) -> TemplateCache:
        """The persisted cache, or an empty one (an unreadable file is logged and moved aside, never fatal)."""
        legacy = self._legacy_json()
        if legacy is not None:
            return legacy
        if not self.path.exists():
            return TemplateCache(**self._limits)
        try:
            return self._load_sqlite()
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError) as exc:
            self.close()
            aside = self.path.with_name(self.path.name + ".unreadable")
            log.warning("%s: cannot load flow templates (%s); moved to %s, starting without them", self.path, exc,
                        aside)
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            return TemplateCache(**self._limits)

    def _load_sqlite(self) -> TemplateCache:
        conn = self._connect()
        cache = TemplateCache(**self._limits)
        over = 0
        for exporter, version, domain, tid, scope, fields in conn.execute(
                "SELECT exporter, version, domain, template_id, scope_fields, fields FROM templates "
                "ORDER BY exporter, version, domain, template_id"):
            template = Template(int(version), int(domain), int(tid),
                                tuple((int(a), int(b), int(c)) for a, b, c in json.loads(fields)), int(scope))
            if not cache.put(str(exporter), template):
                over += 1
        for exporter, version, domain, rate, init_ms in conn.execute(
                "SELECT exporter, version, domain, sampling_interval, system_init_ms FROM domains"):
            key = (str(exporter), int(version), int(domain))
            if rate is not None:
                cache.sampling[key] = int(rate)
            if init_ms is not None:
                cache.system_init_ms[key] = int(init_ms)
        row = conn.execute("SELECT value FROM meta WHERE key = 'written_until_s'").fetchone()
        if row is not None and row[0] is not None:
            cache.written_until_s = int(row[0])
        cache.changed = False
        if over:
            log.warning("%s: %d saved templates beyond the per-exporter limits were not loaded", self.path, over)
        return cache

    def _legacy_json(self) -> TemplateCache | None:
        """Import the JSON cache of earlier versions once, if there is one."""
        candidates = [self.path.with_name(LEGACY_NAME)] if self.path.name != LEGACY_NAME else []
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb") as fh:
                if fh.read(1) == b"{":
                    candidates.insert(0, self.path)
        for source in candidates:
            if not source.exists():
                continue
            try:
                cache = TemplateCache.from_json(json.loads(source.read_text(encoding="utf-8")), **self._limits)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("%s: cannot import flow templates (%s); starting without them", source, exc)
                cache = TemplateCache(**self._limits)
            log.info("importing %d flow templates from %s", len(cache), source)
            self._imported_from = source
            if source == self.path:  # the JSON sits where the database goes: move it aside first
                aside = source.with_name(source.name + ".imported")
                source.replace(aside)
                self._imported_from = None
            cache.mark_all_dirty()
            return cache
        return None

    # -- save ---------------------------------------------------------------------------------------------

    def save(self, cache: TemplateCache) -> int:
        """Write what changed in ``cache`` since the last save (one transaction); return the rows written."""
        if not cache.changed:
            return 0
        conn = self._connect()
        rows = 0
        conn.execute("BEGIN")
        try:
            for key in cache.dirty_templates:
                template = cache.get(key)
                if template is None:
                    conn.execute("DELETE FROM templates WHERE exporter = ? AND version = ? AND domain = ? AND "
                                 "template_id = ?", key)
                else:
                    conn.execute("INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                                 (*key, template.scope_fields, json.dumps([list(f) for f in template.fields])))
                rows += 1
            for key in cache.dirty_domains:
                conn.execute("INSERT OR REPLACE INTO domains VALUES (?, ?, ?, ?, ?)",
                             (*key, cache.sampling.get(key), cache.system_init_ms.get(key)))
                rows += 1
            if cache.dirty_meta:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('written_until_s', ?)",
                             (None if cache.written_until_s is None else str(cache.written_until_s),))
                rows += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        cache.changed = False
        self.rows_written += rows
        if self._imported_from is not None:
            with contextlib.suppress(OSError):
                self._imported_from.replace(self._imported_from.with_name(self._imported_from.name + ".imported"))
            self._imported_from = None
        return rows
