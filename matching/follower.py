"""Following the store's change log: how a serving process sees the writes of every other one.

A ``Follower`` keeps the **applied position** of its process: every entry of the change log
up to it is reflected in the process's indexes and read models. Its thread (started by the
service, ``start``; stopped cleanly, ``stop``) waits for a change (PostgreSQL ``LISTEN``, else
a poll every ``feed_poll_seconds``), reads the entries after the applied position, turns those
written by other processes into ``Changes`` (``store.changelog.changes_of``) and hands them to
the same ``apply(changes)`` as a local write, under the same lock as local writes. Entries
this process wrote are skipped: its writes are applied in the writing thread, under that lock,
before any later entry can be read (so "skip my own" never loses or reorders anything).

Between two changes the thread also saves a snapshot of the indexes every
``snapshot_seconds`` when they changed, and compacts the log (``feed_retention_hours``).

If the log no longer holds the entries after the applied position (compacted while this
process was stopped or far behind), the follower asks for a full resynchronisation (indexes
checked against the store, read models dropped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matching.errors import MaillageError
from matching.store import Changes, Store, changelog

log = logging.getLogger(__name__)

BATCH = 20_000  # entries read at once
GAP_WAIT = 5.0  # seconds a hole in the numbers is waited for (none is expected: see changelog)


@dataclass
class FeedState:
    """Where a follower stands (``Follower.state``), for ``/health``."""

    applied: int = 0
    applied_at: float = field(default_factory=time.time)  # when the applied position last moved
    error: str | None = None  # the last failure of the thread, if it has not recovered since
    resyncs: int = 0  # times the log no longer covered the applied position
    foreign: int = 0  # entries of other processes applied
    own: int = 0  # entries of this process passed over (applied when written)
    # the store's fingerprints and counts per kind at a position (matching.health reads them again when the log moves)
    store_side: tuple[int, dict[str, str], dict[str, int]] | None = None


class Follower:
    """Applies the change log's entries of other processes to this one (see the module's docstring).

    Args:
        store: the store whose log is followed.
        lock: the lock local writes hold from their commit to their ``apply``.
        apply: what a local write calls after its commit (``Recommender.apply``).
        resync: called when the log no longer covers the applied position.
        idle: called by the thread between changes (snapshots, compaction).
        poll: seconds between two polls of the log.
    """

    def __init__(
        self,
        store: Store,
        lock: Any,
        apply: Callable[[Changes], None],
        resync: Callable[[int], None],
        idle: Callable[[], None] | None = None,
        *,
        poll: float = 0.2,
    ) -> None:
        self._store = store
        self._lock = lock
        self._apply = apply
        self._resync = resync
        self._idle = idle
        self.poll = poll
        self.state = FeedState()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._listener = changelog.Listener(store.engine)
        self._gap_since: float | None = None  # when a hole in the numbers was first seen

    # -- position ---------------------------------------------------------------------------------
    @property
    def applied(self) -> int:
        return self.state.applied

    @property
    def lock(self) -> Any:
        """The lock under which changes are applied (local writes and the feed)."""
        return self._lock

    def reset(self, position: int) -> None:
        """Everything up to ``position`` is reflected (after an open or a full resynchronisation)."""
        self._advance(position)
        self._gap_since = None

    def _advance(self, position: int) -> None:
        if position != self.state.applied:
            self.state.applied, self.state.applied_at = position, time.time()

    def local(self, changes: Changes) -> None:
        """A write of this process was applied: when it follows the applied position directly,
        the position moves past it (else the thread will, skipping its entries)."""
        if changes.position is not None and changes.position[0] == self.state.applied + 1:
            self._advance(changes.position[1])

    @property
    def mode(self) -> str:
        return self._listener.mode

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="maillage-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.catch_up():  # a full batch: there may be more at once
                    pass
                if self._idle is not None:
                    self._idle()
                self.state.error = None
            except Exception as exc:  # the store went away, a bug: say it in /health, go on polling
                message = str(exc) if isinstance(exc, MaillageError) else f"{type(exc).__name__}: {exc}"
                if message != self.state.error:
                    log.warning("suivi du journal des changements : %s", message, exc_info=not isinstance(exc, MaillageError))
                self.state.error = message
                self._stop.wait(min(5.0, self.poll * 5))
            self._listener.wait(self.poll, self._stop)

    def catch_up(self) -> bool:
        """Apply the entries of other processes after the applied position; True when a full
        batch was read (call again)."""
        with self._lock:
            start = self.state.applied
            with self._store.read() as tx:
                entries = changelog.read(tx, after=start, limit=BATCH)
                if not entries or entries[0].seq != start + 1:
                    oldest, last = changelog.oldest_seq(tx), changelog.last_seq(tx)
                    if last > start and (oldest is None or oldest > start + 1):
                        self._resynchronise(start, last)
                        return False
                entries = self._contiguous(entries, start) if entries else []
                if not entries:
                    return False
                foreign = [e for e in entries if e.origin != self._store.origin]
                changes = changelog.changes_of(tx, foreign) if foreign else None
            if changes is not None:
                changes.position = (entries[0].seq, entries[-1].seq)
                self._apply(changes)
            self.state.foreign += len(foreign)
            self.state.own += len(entries) - len(foreign)
            self._advance(entries[-1].seq)
            return len(entries) == BATCH

    def _resynchronise(self, start: int, last: int) -> None:
        """The entries after ``start`` were compacted away: check everything against the store."""
        log.warning("journal des changements compacté après la position %d : resynchronisation avec le stockage", start)
        self.state.resyncs += 1
        self._resync(last)
        self.reset(last)

    def _contiguous(self, entries: list[changelog.Entry], start: int) -> list[changelog.Entry]:
        """The entries that follow ``start`` without a hole. A hole is not expected (numbers are
        given in commit order, see ``changelog``); if one shows, it is waited for ``GAP_WAIT``
        seconds, then passed (logged) so that one lost number cannot stop the follower."""
        expected, out = start + 1, []
        for e in entries:
            if e.seq != expected:
                break
            out.append(e)
            expected += 1
        now = time.monotonic()
        if out or self._gap_since is None:
            self._gap_since = None if out else now
            return out
        if now - self._gap_since < GAP_WAIT:
            return []
        log.warning("journal des changements : numéros %d à %d absents, ignorés", start + 1, entries[0].seq - 1)
        self._gap_since = None
        return entries

    # -- lag ----------------------------------------------------------------------------------------
    def lag(self) -> dict[str, Any]:
        """The applied position, the store's last one, and how far behind (changes, seconds)."""
        applied = self.state.applied
        with self._store.read() as tx:
            last = changelog.last_seq(tx)
            first_missing_at = changelog.at_of(tx, applied + 1) if last > applied else None
        seconds = 0.0
        if last > applied:
            seconds = max(0.0, time.time() - (first_missing_at or self.state.applied_at))
        return {
            "applied": applied,
            "last": last,
            "lag_changes": max(0, last - applied),
            "lag_seconds": round(seconds, 3),
            "mode": self.mode,
            "following": self.running,
            "error": self.state.error,
        }


class Chores:
    """Tasks a follower runs between two changes, each at most every so many seconds.

    Example:
        >>> chores = Chores((60.0, print))
    """

    def __init__(self, *tasks: tuple[float, Callable[[], Any]]) -> None:
        self._tasks = [[every, fn, time.monotonic()] for every, fn in tasks]

    def run(self) -> None:
        now = time.monotonic()
        for task in self._tasks:
            every, fn, last = task
            if now - last >= every:
                task[2] = now
                fn()
