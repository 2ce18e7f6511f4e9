"""The intake's worker job (``linewatch_worker``, registered in :mod:`web.intake.apps`, every ``intake.interval_s``):
the drop folder, then the mailbox (:func:`web.intake.collect.collect_all`)."""

from __future__ import annotations

import logging

from web.intake.collect import collect_all

log = logging.getLogger(__name__)


def collect() -> dict[str, int]:
    """One pass; returns how many files each source gave (for the log and the tests)."""
    done = collect_all()
    if any(done.values()):
        log.info("intake: %(folder)d file(s) from the folder, %(imap)d from the mailbox", done)
    return done
