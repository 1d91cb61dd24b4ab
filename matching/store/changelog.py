"""The change log (outbox): every unit of work appends what it changed, in its own transaction.

One entry per entity touched (its kind, pk, external id, territory, text hash and what
happened to it), per territory where feedback events were recorded, and per forgotten text.
Each entry has a sequence number; a process that did not make the change (a replica) reads
the entries after the last one it applied and turns them into the same ``Changes`` a local
write produces (``changes_of``), with the texts read from the rows (the vectors then come
from the shared vector cache by text hash: a replica never encodes a document).

**Order without gaps.** Sequences come from one counter row (``feed_counter``) updated in
the writing transaction, as its very last statement before the commit. Its row lock is held
until the commit, so the next writer gets the next numbers only once this one is committed:
a reader that sees entry 12 also sees 11 (the classic outbox pitfall, where 12 commits while
11 is still in flight and a tailer skips 11 forever, cannot happen). The cost: the writers'
commits are serialised (on SQLite they are anyway). A transaction that rolls back rolls its
counter update back too, so numbers have no holes; ``compact`` removes the oldest entries.

On PostgreSQL the transaction also sends ``NOTIFY maillage_feed, '<last seq>'`` (delivered at
commit) so that followers wake at once (``Listener``); a poll by sequence is the fallback,
and the only way on SQLite.

Operations (``op``) of an entity entry:

| op | for | meaning |
|---|---|---|
| ``upsert`` | member, need, offering, project | its text was (re)written (a member or project: the entity too) |
| ``remove`` | member, need, offering, project, partner | it left the store (or its parent no longer lists it) |
| ``write`` | member, project, partner | written without a new text (availability, stage, capacity...) |
| ``event`` | (territory) | feedback events recorded in the territory |
| ``forget`` | (text hash) | the text of a deleted person: its cached vectors go too |
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine

from matching.domain import INDEXED_KINDS
from matching.store.schema import (
    ChangeRow,
    FeedCounterRow,
    MemberRow,
    NeedRow,
    OfferingRow,
    PartnerRow,
    ProjectRow,
)

log = logging.getLogger(__name__)

CHANNEL = "maillage_feed"
WRITTEN_KINDS = ("member", "project", "partner")  # the entities Changes.written names
ROW = {"member": MemberRow, "need": NeedRow, "offering": OfferingRow, "project": ProjectRow, "partner": PartnerRow}
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the change log (see the module's docstring)."""

    seq: int
    kind: str
    op: str
    pk: int | None
    territory_pk: int | None
    ext_id: str | None
    text_hash: str | None
    origin: str
    at: float


def ensure_counter(engine: Engine) -> None:
    """Create the counter row if it is missing (a new store, or one made before the log)."""
    with engine.begin() as conn:
        if conn.execute(select(FeedCounterRow.seq).where(FeedCounterRow.id == 1)).first() is None:
            dialect = engine.dialect.name
            if dialect in ("postgresql", "sqlite"):
                module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
                conn.execute(module.insert(FeedCounterRow).values(id=1, seq=0).on_conflict_do_nothing())
            else:
                conn.execute(insert(FeedCounterRow).values(id=1, seq=0))


def _entries(session: Any, changes: Any, gone: dict[tuple[str, int], tuple[int, str, str | None]]) -> list[dict[str, Any]]:
    """The entries of a unit of work's ``Changes`` (without their numbers)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()

    def entry(kind: str, pk: int, op: str) -> None:
        seen.add((kind, pk))
        info = gone.get((kind, pk))
        if info is None:
            row = session.get(ROW[kind], pk)  # in the session's identity map: no query
            info = (row.territory_pk, row.ext_id, getattr(row, "text_hash", None)) if row is not None else (None, None, None)
        tpk, ext_id, h = info
        out.append({"kind": kind, "op": op, "pk": pk, "territory_pk": tpk, "ext_id": ext_id, "text_hash": h})

    for kind in INDEXED_KINDS:
        for pk in sorted(changes.upserted[kind]):
            entry(kind, pk, "upsert")
        for pk in sorted(changes.removed[kind]):
            entry(kind, pk, "remove")
    for kind in WRITTEN_KINDS:
        for _tpk, pks in sorted(changes.written[kind].items()):
            for pk in sorted(pks):
                if (kind, pk) not in seen:
                    entry(kind, pk, "remove" if (kind, pk) in gone else "write")
    for tpk in sorted(changes.events):
        out.append({"kind": "event", "op": "event", "pk": None, "territory_pk": tpk, "ext_id": None, "text_hash": None})
    for h in sorted(changes.forgotten):
        out.append({"kind": "text", "op": "forget", "pk": None, "territory_pk": None, "ext_id": None, "text_hash": h})
    return out


def append(
    session: Any, changes: Any, gone: dict[tuple[str, int], tuple[int, str, str | None]], origin: str
) -> tuple[int, int] | None:
    """Append the entries of a unit of work, numbered from the counter; returns the first and
    last numbers (None: nothing changed).

    Called by ``Store.transaction`` as the last statement before the commit (the counter's
    row lock is then held for the commit only).
    """
    rows = _entries(session, changes, gone)
    if not rows:
        return None
    last = session.execute(
        update(FeedCounterRow)
        .where(FeedCounterRow.id == 1)
        .values(seq=FeedCounterRow.seq + len(rows))
        .returning(FeedCounterRow.seq)
    ).scalar_one()
    first, now = last - len(rows) + 1, time.time()
    for n, row in enumerate(rows):
        row.update(seq=first + n, origin=origin, at=now)
    session.execute(insert(ChangeRow), rows)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :seq)"), {"channel": CHANNEL, "seq": str(last)})
    return first, last


# -- reading the log ------------------------------------------------------------------------------------------
def last_seq(tx: Any) -> int:
    """The number of the last committed entry (0 for an empty log)."""
    return int(tx.session.scalar(select(FeedCounterRow.seq).where(FeedCounterRow.id == 1)) or 0)


def oldest_seq(tx: Any) -> int | None:
    """The number of the oldest entry kept (None when the log is empty or compacted away)."""
    return tx.session.scalar(select(func.min(ChangeRow.seq)))


def at_of(tx: Any, seq: int) -> float | None:
    """When entry ``seq`` was written (the writer's wall time), if it is kept."""
    return tx.session.scalar(select(ChangeRow.at).where(ChangeRow.seq == seq))


def read(tx: Any, *, after: int, limit: int | None = 10_000, upto: int | None = None, kind: str | None = None) -> list[Entry]:
    """The entries after ``after`` (up to ``upto``; of one ``kind``), in order, at most ``limit``."""
    stmt = select(ChangeRow).where(ChangeRow.seq > after)
    if upto is not None:
        stmt = stmt.where(ChangeRow.seq <= upto)
    if kind is not None:
        stmt = stmt.where(ChangeRow.kind == kind)
    stmt = stmt.order_by(ChangeRow.seq)
    rows = tx.session.scalars(stmt.limit(limit) if limit is not None else stmt)
    return [Entry(r.seq, r.kind, r.op, r.pk, r.territory_pk, r.ext_id, r.text_hash, r.origin, r.at) for r in rows]


def changes_of(tx: Any, entries: Iterable[Entry]) -> Any:
    """The ``Changes`` that a list of entries (in order) amounts to, read against the store now.

    An entity's last operation wins; the text of an upsert is the row's current text (a later
    change of the same row is then applied early, and applied again, to the same effect, when
    its own entry comes); a row that is gone meanwhile counts as removed.
    """
    from matching.store.core import Changes

    changes = Changes()
    last: dict[tuple[str, int], str] = {}
    for e in entries:
        if e.op == "event":
            changes.events.add(int(e.territory_pk))
        elif e.op == "forget":
            changes.forgotten.add(str(e.text_hash))
        elif e.pk is not None:
            if e.kind in WRITTEN_KINDS and e.territory_pk is not None:
                changes.wrote(e.kind, e.territory_pk, e.pk)
            if e.kind in INDEXED_KINDS and e.op != "write":
                last[(e.kind, e.pk)] = e.op
    for kind in INDEXED_KINDS:
        wanted = sorted(pk for (k, pk), op in last.items() if k == kind and op == "upsert")
        found = _texts(tx, kind, wanted)
        changes.upserted[kind].update(found)
        changes.removed[kind].update(pk for (k, pk), op in last.items() if k == kind and op == "remove")
        changes.removed[kind].update(pk for pk in wanted if pk not in found)
    return changes


def _texts(tx: Any, kind: str, pks: list[int]) -> dict[int, str]:
    cls = ROW[kind]
    out: dict[int, str] = {}
    for start in range(0, len(pks), _CHUNK):
        out.update(dict(tx.session.execute(select(cls.pk, cls.text).where(cls.pk.in_(pks[start : start + _CHUNK]))).all()))
    return out


def compact(tx: Any, *, older_than: float) -> int:
    """Delete the entries written before a time (seconds since the epoch); returns how many.

    A process whose position is older finds the log no longer covers it and checks its
    indexes against the store instead (``Follower``).
    """
    return int(tx.session.execute(delete(ChangeRow).where(ChangeRow.at < older_than)).rowcount or 0)


class Listener:
    """Wakes a follower when another process commits (PostgreSQL ``LISTEN``); on SQLite, a sleep.

    ``wait(timeout)`` returns True when a notification came, False on a time-out (the poll).
    A lost connection (a database restart) is opened again at the next wait; meanwhile the
    poll goes on.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Any = None
        self.mode = "notify" if engine.dialect.name == "postgresql" else "poll"

    def _connect(self) -> Any:
        """A connection of its own (not from the pool), in autocommit mode, listening."""
        dialect = self._engine.dialect
        args, kwargs = dialect.create_connect_args(self._engine.url)
        conn = dialect.connect(*args, **kwargs)
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def wait(self, timeout: float, stop: Any) -> bool:
        if self.mode != "notify":
            stop.wait(timeout)
            return False
        try:
            if self._conn is None:
                self._conn = self._connect()
            got = False
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                got = True
            # several commits may have notified: drain them without waiting
            for _ in self._conn.notifies(timeout=0):
                pass
            return got
        except Exception as exc:  # the server went away: poll until it is back
            log.info("écoute du journal des changements interrompue (%s) : sondage", type(exc).__name__)
            self.close()
            stop.wait(timeout)
            return False

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already gone
                self._conn.close()
            self._conn = None
