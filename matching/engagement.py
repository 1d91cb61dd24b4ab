"""Interoperability with API Engagement, the French national engagement API (betagouv/api-engagement).

A territory's open calls for skills travel as **missions**, one per call:

- ``missions(rec, t, base_url=…)``: the JSON bodies of API Engagement's ``POST /v2/mission``
  (its ``api/docs/openapi.yaml``);
- ``feed_xml(rec, t, base_url=…)``: the XML mission feed its importer reads
  (``<source><publisher/><publisherurl/><lastBuildDate/><mission>…</mission>*</source>``, the shape of
  its example ``correct-feed.xml``), written with ElementTree (never by concatenating strings);
- ``read_feed(path, territory=…)``: such a feed, parsed with defusedxml (no entity expansion, no
  external resource), as an ``ingest.Batch`` of projects and their calls for skills.

One call for skills is one mission; its project is the mission's host organisation
(``organizationClientId`` = project id, ``organizationName`` = its title, ``organizationDescription``
= its description), so a feed's missions of one organisation come back as one project with several
calls. The project's causes give the mission's ``domain`` through ``data/engagement/domain_causes.csv``
(20 domains -> the territory's causes; for each cause, the one domain it is exported as), its commune
the mission's address (``matching.places``: postcode, department, centroid; Maillage keeps no street).
The holder is never exported. An address whose street cannot be placed is read with its city's
place, as API Engagement does. What the feed carries and Maillage does not keep (compensation,
activities, tags, audience, images, the organisation's legal identifiers, a street, the feed's own
coordinates) is checked where API Engagement defines its values, then left; a call for skills has no
activity of its own, so none is exported. ``schedule`` is read back as hours a week when it says so
("3 heures par semaine", "2,5 h par semaine"), else the default 2 hours.

A mission with an invalid value (an unknown ``domain``, a date that does not parse, a negative
``compensationAmount``, an unknown ROME code…) stops the whole import with its ``clientId`` and the
field at fault (``IngestError``): nothing of the file is written.

Export, import into an empty territory and export again give the same feed (same clock).

Example:
    >>> xml = feed_xml(rec, "sceaux-valley", base_url="https://maillage.example")  # doctest: +SKIP
    >>> batch = read_feed("missions.xml", territory="ailleurs")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matching.domain import ID_PATTERN, Need, Project
from matching.errors import IngestError
from matching.messages import message, where
from matching.places import Places
from matching.store import queries

DATA = Path(__file__).resolve().parent.parent / "data" / "engagement"
DOMAINS_CSV = DATA / "domains.csv"
CAUSES_CSV = DATA / "domain_causes.csv"
MISSION_TYPE = "benevolat"
REMOTE_TRUE = {"full", "total", "100", "remote", "possible", "yes", "oui", "true", "1", "partiel", "partielle", "hybride"}
REMOTE_FALSE = {"", "no", "non", "false", "0", "local"}
YES = {"yes", "oui", "true", "1", "vrai"}
NO = {"no", "non", "false", "0", "faux"}
COMPENSATION_UNITS = {
    "hour",
    "heure",
    "heures",
    "day",
    "jour",
    "jours",
    "month",
    "mois",
    "year",
    "an",
    "ans",
    "annee",
    "année",
    "années",
}
COMPENSATION_TYPES = {"gross", "net"}
_SCHEDULE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:h|heures?)\s*(?:par|/)\s*semaine\b", re.IGNORECASE)
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # how API Engagement's parser (JavaScript's Date) reads 01/31/2025
_MISSION_TAG = re.compile(rb"<mission[\s>/]")
_ID = re.compile(ID_PATTERN)
# the order of a mission's fields in the feed (the order of API Engagement's example)
FIELDS = (
    "title", "clientId", "description", "applicationUrl", "postedAt", "startAt", "endAt", "addresses", "schedule",
    "places", "remote", "domain", "romeSkills", "reducedMobilityAccessible", "openToMinors",
    "organizationName", "organizationClientId", "organizationDescription", "type",
)  # fmt: skip


@dataclass(frozen=True)
class DomainTable:
    """The 20 domains of API Engagement and how they map to the territory's causes."""

    domains: tuple[str, ...]
    cause_of: dict[str, str]  # domain -> cause ("" for none)
    domain_of: dict[str, str]  # cause (casefolded) -> the domain it is exported as

    def domain(self, causes: list[str]) -> str:
        """The domain of a project: its first cause that has one, else ``autre``."""
        for cause in causes:
            if found := self.domain_of.get(cause.casefold()):
                return found
        return "autre"


@lru_cache(maxsize=1)
def domain_table() -> DomainTable:
    with DOMAINS_CSV.open(encoding="utf-8", newline="") as fh:
        domains = tuple(row["domain"] for row in csv.DictReader(fh))
    cause_of: dict[str, str] = {}
    domain_of: dict[str, str] = {}
    with CAUSES_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cause_of[row["domain"]] = row["cause"]
            if row["export"] == "oui":
                domain_of[row["cause"].casefold()] = row["domain"]
    if set(cause_of) != set(domains):  # the mapping must name every domain, and only those
        raise ValueError(f"{CAUSES_CSV.name} : domaines {sorted(set(domains) ^ set(cause_of))}")
    return DomainTable(domains, cause_of, domain_of)


# -- export ---------------------------------------------------------------------------------------------
def _iso(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _hours(hours: float) -> str:
    return f"{hours:g}".replace(".", ",")


def address(commune: str | None) -> dict[str, Any] | None:
    """A mission address for a commune: its place in the national table, or the bare name."""
    if not commune:
        return None
    place = Places.default().resolve(commune)
    if place is None:
        return {"city": commune, "country": "France"}
    found: dict[str, Any] = {
        "postalCode": place.postcode,
        "city": place.name,
        "departmentCode": place.department,
        "country": "France",
    }
    if place.lat is not None and place.lon is not None:
        found["location"] = {"lat": place.lat, "lon": place.lon}
    return found


def mission(project: Project, need: Need, *, base_url: str) -> dict[str, Any]:
    """One call for skills as the JSON body of API Engagement's ``POST /v2/mission`` (empty fields left out)."""
    body: dict[str, Any] = {
        "title": need.title,
        "clientId": need.id,
        "description": need.text,
        "applicationUrl": f"{base_url.rstrip('/')}/ui/projects/{project.id}",
        "postedAt": _iso(need.posted_on) if need.posted_on else None,
        "startAt": _iso(need.starts_on) if need.starts_on else None,
        "endAt": _iso(need.deadline) if need.deadline else None,
        "addresses": [a] if (a := address(project.commune)) else None,
        "schedule": f"{_hours(need.hours_per_week)} heures par semaine",
        "places": need.headcount,
        "remote": "full" if need.remote else "no",
        "domain": domain_table().domain(project.causes),
        "romeSkills": list(need.rome_skills),
        "reducedMobilityAccessible": need.reduced_mobility_accessible,
        "openToMinors": need.open_to_minors,
        "organizationName": project.title,
        "organizationClientId": project.id,
        "organizationDescription": project.description,
        "type": MISSION_TYPE,
    }
    return {k: v for k, v in body.items() if v not in (None, "", [])}


def open_calls(rec: Any, territory_id: str) -> list[tuple[Project, Need]]:
    """The territory's open calls for skills (status open, deadline not passed), in the store's order."""
    today = rec.clock.today()
    with rec.store.read() as tx:
        documents = queries.project_documents(tx, territory_pk=tx.territory_pk(territory_id))
    calls = []
    for doc in documents:
        project = Project.model_validate(doc)
        calls += [(project, n) for n in project.needs if n.status == "open" and (n.deadline is None or n.deadline >= today)]
    return calls


def missions(rec: Any, territory_id: str, *, base_url: str) -> list[dict[str, Any]]:
    """The territory's open calls for skills as ``POST /v2/mission`` bodies."""
    return [mission(p, n, base_url=base_url) for p, n in open_calls(rec, territory_id)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _mission_element(parent: ET.Element, body: dict[str, Any]) -> None:
    element = ET.SubElement(parent, "mission")
    for name in FIELDS:
        if name not in body:
            continue
        if name == "addresses":
            addresses = ET.SubElement(element, "addresses")
            for a in body["addresses"]:
                node = ET.SubElement(addresses, "address")
                for key, value in a.items():
                    if key == "location":
                        location = ET.SubElement(node, "location")
                        ET.SubElement(location, "lat").text = str(value["lat"])
                        ET.SubElement(location, "lon").text = str(value["lon"])
                    else:
                        ET.SubElement(node, key).text = str(value)
        else:
            ET.SubElement(element, name).text = _text(body[name])


def feed_xml(rec: Any, territory_id: str, *, base_url: str) -> bytes:
    """The territory's mission feed (UTF-8 XML, with its declaration)."""
    territory = rec.get_territory(territory_id)
    root = ET.Element("source")
    ET.SubElement(root, "publisher").text = f"Maillage — {territory.name}"
    ET.SubElement(root, "publisherurl").text = base_url.rstrip("/") + "/"
    ET.SubElement(root, "lastBuildDate").text = email.utils.format_datetime(rec.clock.now().astimezone(dt.UTC), usegmt=True)
    for body in missions(rec, territory_id, base_url=base_url):
        _mission_element(root, body)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# -- import ---------------------------------------------------------------------------------------------
class _Mission:
    """One ``<mission>`` being read: its values by field, and errors that name it."""

    def __init__(self, element: ET.Element, source: str, line: int, ordinal: int) -> None:
        self.element, self.source, self.line = element, source, line
        self.client_id = self.text("clientId")
        self.name = f"mission « {self.client_id} »" if self.client_id else f"mission n° {ordinal}"

    def text(self, name: str, parent: ET.Element | None = None) -> str:
        node = (self.element if parent is None else parent).find(name)
        return "" if node is None else "".join(node.itertext()).strip()

    def fail(self, field: str, why: str) -> IngestError:
        return IngestError(self.source, self.line, field, f"{self.name} : {why}")

    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        if not value:
            return None
        if us := _US_DATE.match(value):
            month, day, year = map(int, us.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise self.fail(name, f"date impossible {value!r}") from None
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
        try:
            return email.utils.parsedate_to_datetime(value).date()
        except (TypeError, ValueError, IndexError):
            raise self.fail(name, f"date illisible {value!r} (ISO 8601 attendu, par ex. 2025-01-31)") from None

    def number(self, name: str, *, minimum: float | None = None) -> float | None:
        value = self.text(name)
        if not value:
            return None
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise self.fail(name, f"un nombre est attendu, pas {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self.fail(name, f"un nombre est attendu, pas {value!r}")
        if minimum is not None and number < minimum:
            raise self.fail(name, f"doit être supérieur ou égal à {minimum:g}, pas {value}")
        return number

    def flag(self, name: str) -> bool | None:
        value = self.text(name).lower()
        if not value:
            return None
        if value in YES or value in NO:
            return value in YES
        raise self.fail(name, f"yes ou no attendu, pas {value!r}")

    def choice(self, name: str, allowed: set[str]) -> str:
        value = self.text(name)
        if value and value.lower() not in allowed:
            raise self.fail(name, f"valeur inconnue {value!r} (valeurs admises : {', '.join(sorted(allowed))})")
        return value.lower()

    def ident(self, name: str, value: str) -> str:
        if not _ID.match(value):
            raise self.fail(name, f"identifiant non accepté {value[:100]!r} (lettres, chiffres, _ . : -, 128 au plus)")
        return value

    def check_compensation(self) -> None:
        low = self.number("compensationAmount", minimum=0)
        high = self.number("compensationAmountMax", minimum=0)
        if low is not None and high is not None and high < low:
            raise self.fail("compensationAmountMax", "doit être supérieur ou égal à compensationAmount")
        self.choice("compensationUnit", COMPENSATION_UNITS)
        self.choice("compensationType", COMPENSATION_TYPES)

    def commune(self) -> str | None:
        """The commune of the first address: the city's place (postcode, then name), else the city as written."""
        addresses = self.element.find("addresses")
        node = addresses.find("address") if addresses is not None else None
        if node is None:  # the flat form of older feeds
            node = self.element
            city, postcode = self.text("city"), self.text("postalCode")
        else:
            city, postcode = self.text("city", node), self.text("postalCode", node)
        if not (city or postcode):
            return None
        place = Places.default().resolve(city or postcode, postcode=postcode or None)
        return place.name if place is not None else (city or None)

    def need(self) -> Need:
        self.ident("clientId", self.client_id)
        self.check_compensation()
        remote = self.choice("remote", REMOTE_TRUE | REMOTE_FALSE)
        places = self.number("places", minimum=1)
        if places is not None and not places.is_integer():
            raise self.fail("places", f"un nombre entier est attendu, pas {self.text('places')!r}")
        schedule = _SCHEDULE.match(self.text("schedule"))
        data = {
            "id": self.client_id,
            "title": self.text("title"),
            "text": self.text("description"),
            "hours_per_week": float(schedule.group(1).replace(",", ".")) if schedule else 2.0,
            "remote": remote in REMOTE_TRUE,
            "deadline": self.date("endAt"),
            "headcount": int(places) if places is not None else 1,
            "rome_skills": [c.strip() for c in self.text("romeSkills").split(",") if c.strip()],
            "starts_on": self.date("startAt"),
            "posted_on": self.date("postedAt"),
            "open_to_minors": self.flag("openToMinors"),
            "reduced_mobility_accessible": self.flag("reducedMobilityAccessible"),
        }
        return self.validated(Need, data, NEED_FIELDS)

    def causes(self) -> list[str]:
        domain = self.text("domain")
        if domain == "mémoire et citoyenneté":  # as API Engagement reads it
            domain = "memoire-et-citoyennete"
        table = domain_table()
        if domain and domain not in table.cause_of:
            raise self.fail("domain", f"domaine inconnu {domain!r} (les 20 valeurs d'API Engagement : {DOMAINS_CSV.name})")
        cause = table.cause_of.get(domain, "")
        return [cause] if cause else []

    def validated(self, model: type, data: dict[str, Any], fields: dict[str, str]) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = where(err["loc"]) or "-"
            raise self.fail(fields.get(re.split(r"[.[]", field)[0], field), message(err)) from None


# Maillage's field -> the feed's, for the messages
NEED_FIELDS = {
    "id": "clientId", "title": "title", "text": "description", "hours_per_week": "schedule", "remote": "remote",
    "deadline": "endAt", "headcount": "places", "rome_skills": "romeSkills", "starts_on": "startAt",
    "posted_on": "postedAt", "open_to_minors": "openToMinors", "reduced_mobility_accessible": "reducedMobilityAccessible",
}  # fmt: skip
PROJECT_FIELDS = {"id": "organizationClientId", "title": "organizationName", "description": "organizationDescription"}


def _parse(data: bytes, source: str) -> ET.Element:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=True)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 1
        raise IngestError(source, line, "-", f"XML invalide : {exc}") from None
    except DefusedXmlException as exc:
        raise IngestError(source, 1, "-", f"XML refusé (DTD ou entités interdites) : {type(exc).__name__}") from None
    if root.tag != "source":
        raise IngestError(source, 1, "-", f"un flux de missions <source> est attendu, pas <{root.tag}>")
    return root


def read_feed(path: str | Path, *, territory: str | None) -> Any:
    """An API Engagement mission feed -> ``ingest.Batch`` of projects (validated; nothing is written)."""
    from matching.ingest import Batch

    path = Path(path)
    source = path.name
    if territory is None:
        raise IngestError(source, 1, "territory", "--territory est obligatoire pour ce format")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(source, 0, "-", f"lecture impossible ({exc.strerror or exc})") from None
    root = _parse(data, source)
    lines = [data.count(b"\n", 0, m.start()) + 1 for m in _MISSION_TAG.finditer(data)]
    projects: dict[str, dict[str, Any]] = {}
    owners: dict[str, _Mission] = {}
    seen: set[str] = set()
    for ordinal, element in enumerate(root.findall("mission"), start=1):
        m = _Mission(element, source, lines[ordinal - 1] if ordinal <= len(lines) else 1, ordinal)
        if not m.client_id:
            raise m.fail("clientId", "clientId manquant")
        if m.client_id in seen:
            raise m.fail("clientId", "clientId en double dans le fichier")
        seen.add(m.client_id)
        need = m.need()
        causes = m.causes()
        project_id = m.ident("organizationClientId", m.text("organizationClientId") or m.client_id)
        if project_id not in projects:
            owners[project_id] = m
            projects[project_id] = {
                "id": project_id,
                "title": m.text("organizationName") or need.title,
                "description": m.text("organizationDescription"),
                "causes": causes,
                "commune": m.commune(),
                "needs": [],
            }
        projects[project_id]["needs"].append(need.model_dump())
    batch = Batch()
    for project_id, data in projects.items():
        batch.add("project", territory, owners[project_id].validated(Project, data, PROJECT_FIELDS))
    return batch
