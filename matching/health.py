"""What ``/health`` says about a process: its indexes against the store, and the change log.

``in_sync`` compares **fingerprints** (an order-independent hash of the ``(id, text hash)``
pairs of each kind), not counts: an index that holds the right number of documents with
another process's old texts is not in sync. The comparison is made only when it means
something: this process has applied every entry of the log, and no entry was committed while
the store's side was read (else ``in_sync`` is ``null``: the lag says how far behind it is).
For ``/health`` the store's fingerprints are read again only when the log moved (a quiet
store: one number read); the periodic check (``check_sync``, every 5 minutes) always reads
them, so a write that bypassed the log is found there.
"""

from __future__ import annotations

from typing import Any

from embeddings.indexset import contribution, fingerprint
from matching.domain import INDEXED_KINDS
from matching.store import changelog, queries


def check_sync(rec: Any, *, repair: bool = False) -> dict[str, bool | None]:
    """Per kind: whether the index agrees with the store (None: cannot be told now).

    ``repair``: rebuild the indexes that differ while nothing is pending (something wrote to
    the store outside the change log; the periodic check of a serving process does this).
    """
    return _compare(rec, repair=repair)[0]


def _compare(rec: Any, *, repair: bool) -> tuple[dict[str, bool | None], dict[str, int], dict[str, str | None]]:
    with rec.feed.lock:
        applied = rec.feed.applied
        mine = {kind: rec.indexes.fingerprint(kind) for kind in INDEXED_KINDS}
    with rec.store.read() as tx:
        before = changelog.last_seq(tx)
        known = None if repair else rec.feed.state.store_side  # the periodic check reads afresh
        if known is not None and known[0] == before:  # the log did not move: the store's side is known
            _, theirs, counts = known
            after = before
        else:
            hashes = {kind: queries.text_hashes(tx, kind=kind) for kind in INDEXED_KINDS}
            after = changelog.last_seq(tx)
            counts = {kind: len(h) for kind, h in hashes.items()}
            theirs = {kind: fingerprint(contribution(pk, h) for pk, h in hashes[kind].items()) for kind in INDEXED_KINDS}
            if before == after:  # read between two commits: valid at this position
                rec.feed.state.store_side = (before, theirs, counts)
    if not before == after == applied:
        return dict.fromkeys(INDEXED_KINDS), counts, dict.fromkeys(INDEXED_KINDS)
    in_sync: dict[str, bool | None] = {kind: mine[kind] == theirs[kind] for kind in INDEXED_KINDS}
    if repair and not all(in_sync.values()):
        rec.resync(applied)
    return in_sync, counts, dict(theirs)


def report(rec: Any) -> dict[str, Any]:
    """``status``: ``ok``; ``degraded`` (serving, but an index cannot be saved, the feed failed,
    or an index differs from the store); ``lagging`` (a change older than
    ``feed_max_lag_seconds`` is not applied yet: the API answers 503 so that a load balancer
    takes the process out)."""
    feed = rec.feed.lag()
    in_sync, counts, theirs = _compare(rec, repair=False)
    indexes = rec.indexes.status(counts, theirs)
    for kind, value in in_sync.items():
        indexes[kind]["in_sync"] = value
    saving = rec.indexes.saving.error
    status = "ok"
    if saving or feed["error"] or any(v is False for v in in_sync.values()):
        status = "degraded"
    if feed["lag_seconds"] > rec.settings.feed_max_lag_seconds:
        status = "lagging"
    return {
        "status": status,
        "encoder": rec.encoder.model_id,
        "dim": rec.encoder.dim,
        "indexes": indexes,
        "feed": feed,
        "snapshot": {"saved": not rec.indexes.saving.dirty, "error": saving},
    }
