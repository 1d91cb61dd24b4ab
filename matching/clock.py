"""The one clock of the service: what "now" and "today" are.

Every part that needs the time (open calls for skills of the day, the exposure window,
retention, digests, exports, the store's timestamps) asks the clock it was given, so a test
or a simulation fixes the time by passing a ``FixedClock`` instead of patching modules.

Example:
    >>> clock = FixedClock(dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC))
    >>> clock.today()
    datetime.date(2025, 1, 1)
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def today(self) -> dt.date:
        """The current date (deadlines of calls for skills are dates)."""
        ...


class SystemClock:
    """The machine's clock: UTC time, local date (a deadline ends with the local day)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return dt.date.today()


class FixedClock:
    """A clock that says what it was told (tests, simulations); ``set`` moves it."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)

    def set(self, now: dt.datetime) -> None:
        self._now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def today(self) -> dt.date:
        return self._now.date()


def utc_naive(value: dt.datetime) -> dt.datetime:
    """A time as stored: UTC without tzinfo (portable across SQLite and PostgreSQL)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
