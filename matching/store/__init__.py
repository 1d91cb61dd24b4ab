"""The store: every SQL statement of the service lives in this package.

- ``core``: the engine, units of work (``Store.transaction`` / ``Store.read`` give a ``Tx``),
  the entity writes and getters, and ``Changes`` (what a unit of work changed);
- ``queries``: the reads of the read path, listings and overviews (keyword-only functions);
- ``events``: feedback events on suggestions;
- ``keys``: API keys (hashes only);
- ``vectors``: the vector cache table (``embeddings.cache.VectorCache`` of the service);
- ``schema``: the tables, private to the package (no row leaves it).

Example:
    >>> store = Store("sqlite://")
    >>> with store.transaction() as tx:
    ...     _ = tx.upsert_territory(Territory(id="t", name="T"))
    >>> with store.read() as tx:
    ...     queries.count(tx, kind="member")
    0
"""

from __future__ import annotations

from typing import Any

from matching.domain import Territory  # noqa: F401 - the doctest's
from matching.store import changelog, events, keys, notices, queries
from matching.store.core import Changes, Store, Tx, make_engine
from matching.store.vectors import SqlVectorCache


def to_frame(store: Store, kind: str, territory_id: str | None = None) -> Any:
    """One row per entity of ``kind`` (member, project, need, offering), columns = document fields.

    Example:
        >>> to_frame(store, "member", "sceaux-valley")[["id", "commune"]].head()  # doctest: +SKIP
    """
    import pandas as pd

    with store.read() as tx:
        tpk = tx.territory_pk(territory_id) if territory_id else None
        return pd.DataFrame.from_records(queries.records(tx, kind=kind, territory_pk=tpk))


__all__ = [
    "Changes",
    "SqlVectorCache",
    "Store",
    "Tx",
    "changelog",
    "events",
    "keys",
    "make_engine",
    "notices",
    "queries",
    "to_frame",
]
