"""Read-only filters shared between requests, and what is derived from them.

A caller that asks many questions with the same filter (the available members, the open
needs of the day) passes the same read-only boolean array by id each time. The indexes keep
what they derive from such a filter (an exact copy of the allowed vectors, a mask by
position) by the filter's identity, so a request pays for it once.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np


def is_shared(allowed: object) -> TypeGuard[np.ndarray]:
    """A read-only boolean array by id: a filter that callers share between requests."""
    return isinstance(allowed, np.ndarray) and allowed.dtype == bool and not allowed.flags.writeable


class PerFilter:
    """Values derived from shared filters, by the filter's identity (at most ``size``, oldest out).

    ``tag`` is what the value was also derived from (e.g. an order of documents): a value is
    returned only for the same filter object and the same tag object.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: dict[int, tuple[np.ndarray, Any, Any]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, allowed: object, tag: Any = None) -> Any:
        if not self._items or not isinstance(allowed, np.ndarray):
            return None
        hit = self._items.get(id(allowed))
        return hit[2] if hit is not None and hit[0] is allowed and hit[1] is tag else None

    def put(self, allowed: np.ndarray, value: Any, tag: Any = None) -> Any:
        while len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[id(allowed)] = (allowed, tag, value)
        return value

    def clear(self) -> None:
        self._items = {}
