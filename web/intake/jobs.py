"""The intake's worker job (``linewatch_worker``, registered in :mod:`web.intake.apps`, every ``intake.interval_s``):
the drop folder, the mailbox, then the files that failed on our side (:func:`web.intake.collect.collect_all`)."""

from __future__ import annotations

import logging

from web.intake.collect import collect_all

log = logging.getLogger(__name__)


def collect() -> dict[str, int]:
    """One pass; returns how many files each source gave and how many failed ones were retried."""
    done = collect_all()
    if any(done.values()):
        log.info("intake: %(folder)d file(s) from the folder, %(imap)d from the mailbox, %(retried)d retried", done)
    return done
