"""Any French commune: the national table, and a place found by postcode, INSEE code or name.

``data/communes_fr.csv`` lists every French commune (INSEE's Code officiel géographique 2024,
La Poste's postcodes, centroids; sources in ``data/README.md``): one row per (commune, postcode),
delegated and associated communes and the arrondissements of Paris, Lyon and Marseille included.
The three cities themselves are not rows: their place is built from their arrondissements
(population-weighted centroid, first postcode), so that "Lyon" is found like any other town.

A name is compared without case, accents, punctuation nor a leading article, and "St" / "Ste"
read as "Saint" / "Sainte": "st etienne", "Saint-Étienne" and "SAINT ETIENNE" are one key, "Haÿ-les-
Roses (L')" is "L'Haÿ-les-Roses". When several communes share a name, a postcode (or a department
code) given with it decides, else the most populated one is taken. A text of five characters is
read as a postcode first, then as an INSEE code ("2A004" only as an INSEE code); "Sceaux (92330)"
and "92330 Sceaux" give the name and the postcode.

Example:
    >>> places = Places.default()
    >>> places.resolve("st etienne").name, places.resolve("69003").name
    ('Saint-Étienne', 'Lyon 3e Arrondissement')
    >>> places.resolve("Lyon").insee
    '69123'
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matching.text import strip_accents

TABLE = Path(__file__).resolve().parent.parent / "data" / "communes_fr.csv"
# the cities whose table rows are their arrondissements: INSEE code of the city -> its name
CITIES_OF_ARRONDISSEMENTS = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}
ARTICLES = ("le", "la", "les", "l")
TOKEN_VARIANTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_WITH_POSTCODE = re.compile(r"^(?:(?P<pre>\d{5})\s+(?P<name1>.+)|(?P<name2>.+?)\s*\(?(?P<post>\d{5})\)?)$")
_TRAILING_ARTICLE = re.compile(r"^(?P<name>.+?)\s*\((?P<article>l'|le|la|les)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """A commune: its INSEE code, official name, postcode, department, centroid (WGS84) and population."""

    insee: str
    name: str
    postcode: str
    department: str
    lat: float | None
    lon: float | None
    population: int = 0
    kind: str = "COM"  # COM, COMD (delegated), COMA (associated), ARM (arrondissement)


@lru_cache(maxsize=65536)
def _tokens(name: str) -> tuple[str, ...]:
    text = name.strip()
    if trailing := _TRAILING_ARTICLE.match(text):  # "Haÿ-les-Roses (L')" -> "L'Haÿ-les-Roses"
        text = f"{trailing['article']} {trailing['name']}"
    tokens = re.findall(r"[a-z0-9]+", strip_accents(text).lower().replace("œ", "oe").replace("æ", "ae"))
    return tuple(TOKEN_VARIANTS.get(t, t) for t in tokens)


def place_key(name: str) -> str:
    """The comparison key of a commune name (see the module's docstring)."""
    tokens = _tokens(name)
    if len(tokens) > 1 and tokens[0] in ARTICLES:
        tokens = tokens[1:]
    return "".join(tokens)


def _written_key(name: str) -> str:
    """The key with its article glued on, as people type it ("lhay les roses")."""
    return "".join(_tokens(name))


def _department(insee: str, given: str) -> str:
    if given:
        return given
    return insee[:3] if insee.startswith("97") else insee[:2]


class Places:
    """The national commune table, looked up by postcode, INSEE code or name."""

    def __init__(self, places: list[Place]) -> None:
        self._by_key: dict[str, list[Place]] = defaultdict(list)
        self._by_postcode: dict[str, list[Place]] = defaultdict(list)
        self._by_insee: dict[str, Place] = {}
        for p in places:
            self._by_key[place_key(p.name)].append(p)
            if (written := _written_key(p.name)) != place_key(p.name):
                self._by_key.setdefault(written, []).append(p)
            self._by_postcode[p.postcode].append(p)
            self._by_insee.setdefault(p.insee, p)
        rank = {"COM": 0, "ARM": 1, "COMA": 2, "COMD": 3}
        for group in (*self._by_key.values(), *self._by_postcode.values()):
            group.sort(key=lambda p: (rank.get(p.kind, 4), -p.population, p.insee))

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> Places:
        """The shipped table (read once per process, about 0.3 s)."""
        return cls.read(TABLE)

    @classmethod
    def read(cls, path: Path) -> Places:
        places: list[Place] = []
        arrondissements: dict[str, list[Place]] = defaultdict(list)
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                place = Place(
                    insee=r["insee"],
                    name=r["name"],
                    postcode=r["postcode"],
                    department=_department(r["insee"], r["department"]),
                    lat=float(r["lat"]) if r["lat"] else None,
                    lon=float(r["lon"]) if r["lon"] else None,
                    population=int(r["population_2021"] or 0),
                    kind=r["type"],
                )
                places.append(place)
                if place.kind == "ARM" and r["parent_insee"] in CITIES_OF_ARRONDISSEMENTS:
                    arrondissements[r["parent_insee"]].append(place)
        for insee, parts in arrondissements.items():
            distinct = list({p.insee: p for p in parts}.values())  # one row per postcode: count each once
            total = sum(p.population for p in distinct) or 1
            places.append(
                Place(
                    insee=insee,
                    name=CITIES_OF_ARRONDISSEMENTS[insee],
                    postcode=min(p.postcode for p in distinct),
                    department=distinct[0].department,
                    lat=round(sum(p.lat * p.population for p in distinct if p.lat is not None) / total, 5),
                    lon=round(sum(p.lon * p.population for p in distinct if p.lon is not None) / total, 5),
                    population=total,
                    kind="COM",
                )
            )
        return cls(places)

    def by_insee(self, insee: str) -> Place | None:
        return self._by_insee.get(insee.strip().upper())

    def by_postcode(self, postcode: str) -> list[Place]:
        """The communes of a postcode, the main one first."""
        return list(self._by_postcode.get(postcode.strip(), ()))

    def named(self, name: str) -> list[Place]:
        """The communes of this name (see ``place_key``), the main one first."""
        return list(self._by_key.get(place_key(name)) or self._by_key.get(_written_key(name), ()))

    def resolve(self, text: str | None = None, *, postcode: str | None = None, department: str | None = None) -> Place | None:
        """The commune a text names (a name, a postcode, an INSEE code, "Name (postcode)"), or None.

        ``postcode`` (or ``department``) given beside a name chooses among homonyms; given alone, the
        postcode's main commune.
        """
        text = (text or "").strip()
        postcode = (postcode or "").strip() or None
        if text and _CODE.match(text):
            found = self.by_postcode(text)
            return found[0] if found else self.by_insee(text)
        if text and (both := _WITH_POSTCODE.match(text)) and not self.named(text):
            text = (both["name1"] or both["name2"] or "").strip()
            postcode = postcode or both["pre"] or both["post"]
        if text:
            homonyms = self.named(text)
            if postcode:
                exact = [p for p in homonyms if p.postcode == postcode]
                if exact:
                    return exact[0]
                near = [p for p in homonyms if p.department == _department(postcode, "")]
                if near:
                    return near[0]
            if department:
                near = [p for p in homonyms if p.department == department]
                if near:
                    return near[0]
            if homonyms:
                return homonyms[0]
        if postcode:
            found = self.by_postcode(postcode)
            if found:
                return found[0]
        return None
