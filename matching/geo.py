"""Distances between communes, from the shipped table of commune centroids.

``data/communes_92.csv`` lists the 36 communes of Hauts-de-Seine, Paris and the
neighbouring communes of Val-de-Marne with their postcode, INSEE code and approximate
centroid (WGS84). A commune is found there first, by name (case, accents, hyphens and
apostrophes ignored) or by postcode, so that the places of the Sceaux demo (and its
rankings) stay what they were; any other French commune is found in the national table
(``matching.places``: by name with its variants, postcode or INSEE code).

Example:
    >>> round(Communes.default().distance_km("Sceaux", "Bourg-la-Reine"), 1)
    2.0
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matching.places import Places
from matching.text import strip_accents

TABLE = Path(__file__).resolve().parent.parent / "data" / "communes_92.csv"
EARTH_RADIUS_KM = 6371.0
# distance at which the place component falls to 1/e (~0.37)
PLACE_SCALE_KM = 6.0


@lru_cache(maxsize=65536)  # a few hundred distinct names; called per candidate per request
def _key(name: str) -> str:
    return "".join(c for c in strip_accents(name).lower() if c.isalnum())


@dataclass(frozen=True)
class Commune:
    name: str
    postcode: str
    insee: str
    lat: float
    lon: float


class Communes:
    """Lookup of communes by name or postcode, and distances between them."""

    def __init__(self, communes: list[Commune]) -> None:
        self._by_key = {_key(c.name): c for c in communes}
        self._by_postcode: dict[str, Commune] = {}
        self._distances: dict[tuple[str | None, str | None, str | None, str | None], float | None] = {}
        for c in communes:
            self._by_postcode.setdefault(c.postcode, c)

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> Communes:
        with TABLE.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return cls([Commune(r["commune"], r["postcode"], r["insee"], float(r["lat"]), float(r["lon"])) for r in rows])

    def find(self, commune: str | None = None, postcode: str | None = None) -> Commune | None:
        if commune and (found := self._by_key.get(_key(commune))):
            return found
        if postcode and (found := self._by_postcode.get(postcode.strip())):
            return found
        if not (commune or postcode):
            return None
        return self._national(commune, postcode)

    @staticmethod
    @lru_cache(maxsize=65536)
    def _national(commune: str | None, postcode: str | None) -> Commune | None:
        """Any other French commune, from the national table (read on the first such look-up)."""
        place = Places.default().resolve(commune, postcode=postcode)
        if place is None or place.lat is None or place.lon is None:
            return None
        return Commune(place.name, place.postcode, place.insee, place.lat, place.lon)

    def distance_km(
        self, a: str | None, b: str | None, *, postcode_a: str | None = None, postcode_b: str | None = None
    ) -> float | None:
        """Great-circle distance between two communes, or None if one is unknown."""
        key = (a, b, postcode_a, postcode_b)
        if key in self._distances:
            return self._distances[key]
        ca, cb = self.find(a, postcode_a), self.find(b, postcode_b)
        d = None if ca is None or cb is None else haversine_km(ca.lat, ca.lon, cb.lat, cb.lon)
        if len(self._distances) < 1_000_000:  # pairs of places: bounded by the table's size squared
            self._distances[key] = d
        return d


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def proximity(distance_km: float | None) -> float:
    """Place score in [0, 1]: 1 at the same place, exp(-d / 6 km) beyond; 0.5 if unknown."""
    if distance_km is None:
        return 0.5
    return math.exp(-distance_km / PLACE_SCALE_KM)
