"""What the e-mail digests told whom (``matching.notify``): one row per (channel, recipient, item),
so that no item is told twice, and the date of each recipient's last digest (its cadence).

Every function takes the unit of work (``Tx``) and keyword arguments; none returns a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select

from matching.clock import utc_naive
from matching.store.core import Tx
from matching.store.schema import NoticeRow


def told(tx: Tx, *, territory_pk: int, channel: str, recipient: str) -> set[str]:
    """The items already told to this recipient on this channel."""
    stmt = select(NoticeRow.item).where(
        NoticeRow.territory_pk == territory_pk, NoticeRow.channel == channel, NoticeRow.recipient == recipient
    )
    return set(tx.session.scalars(stmt))


def last_told(tx: Tx, *, territory_pk: int, channel: str) -> dict[str, dt.datetime]:
    """recipient -> when their last digest on this channel was sent (UTC, naive)."""
    stmt = (
        select(NoticeRow.recipient, func.max(NoticeRow.sent_at))
        .where(NoticeRow.territory_pk == territory_pk, NoticeRow.channel == channel)
        .group_by(NoticeRow.recipient)
    )
    return dict(tx.session.execute(stmt).all())  # type: ignore[arg-type]


def record_told(tx: Tx, *, territory_pk: int, channel: str, recipient: str, items: Iterable[str], at: dt.datetime) -> int:
    """Record the items of a digest just sent (those already there are left as they are)."""
    known = told(tx, territory_pk=territory_pk, channel=channel, recipient=recipient)
    fresh = [i for i in dict.fromkeys(items) if i not in known]
    for item in fresh:
        tx.session.add(
            NoticeRow(territory_pk=territory_pk, channel=channel, recipient=recipient, item=item, sent_at=utc_naive(at))
        )
    tx.session.flush()
    return len(fresh)
