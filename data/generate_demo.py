"""Deterministic generator of the fictional "Sceaux Valley" demo territory.

It writes two JSON files:

- the **territory document** (``data/demo/sceaux-valley.json``): the territory, its six
  partners and their offerings, members (fictional residents) and projects with their
  needs (calls for skills), in the shape of ``matching.domain``;
- the **truth** (``data/demo/truth.json``): hidden attributes used to build the texts
  (skill family of each member and need, stage of each project, the offering each
  project really needs), for evaluating a matcher. Truth never comes from the texts.

Every person is fictional: names are a first name and an initial drawn at random,
e-mails use ``example.org``. Partners are real organisations of the support chain, but
their offerings here are illustrative, not their actual terms.

The words (first names, skill families and their phrasings, project types, stage and
offering sentences, partners, communes and their weights) are data, read from
``data/demo/vocabulary/`` (see ``data/README.md``); this module only draws from them.

Same seed and sizes give byte-identical files. Run from the repository root::

    .venv/bin/python data/generate_demo.py                   # defaults: 320 members, 64 projects
    .venv/bin/python data/generate_demo.py --members 100000 --projects 20000 --out /tmp/big.json

Import ``generate(members, projects, seed)`` to get ``(territory_document, truth)`` in
memory (tests, benchmarks).
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMUNES_CSV = HERE / "communes_92.csv"
DEMO = HERE / "demo"
VOCABULARY = DEMO / "vocabulary"

try:  # run as ``python data/generate_demo.py``: the repository root is not on sys.path
    from matching.domain import Member, Partner, Project, Stage, Territory
except ImportError:  # pragma: no cover - depends on how the script is launched
    sys.path.insert(0, str(HERE.parent))
    from matching.domain import Member, Partner, Project, Stage, Territory


# -- Vocabulary --------------------------------------------------------------------------
# Read from data/demo/vocabulary/. JSON key order and list order are the order of the draws.


def load_vocabulary(name: str):
    """One vocabulary file: parsed JSON, or the rows of a CSV file as dicts."""
    with (VOCABULARY / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f)) if name.endswith(".csv") else json.load(f)


_territory = load_vocabulary("territory.json")
TERRITORY = _territory["territory"]
TERRITORY_COMMUNES = _territory["communes"]  # the eleven towns of Vallée Sud - Grand Paris
MEMBER_COMMUNE_WEIGHTS = _territory["member_commune_weights"]  # where members live
PROJECT_COMMUNE_WEIGHTS = _territory["project_commune_weights"]
SCEAUX_QUARTIERS = _territory["sceaux_quartiers"]  # used in some project names: {"de": ..., "a": ...}
CAUSES = _territory["causes"]  # national engagement domains (JeVeuxAider.gouv.fr)
_preferences = load_vocabulary("preferences.json")  # truth only: what members would accept
_policy = load_vocabulary("policy.json")
AXES: list[dict] = _policy["axes"]  # the territory's policy axes (Territory.axes)
TYPE_AXES: dict[str, list[str]] = _policy["type_axes"]  # truth only: the axes a project type serves

PARTNERS = load_vocabulary("partners.json")  # fixed, hand-written, copied as is into the document

# Skill families: member phrasings (skills, bio, tags) and need phrasings (holder's side).
# Gendered endings are written as {e} {ne} {trice} {euse} {ere} {x} {le} {ve} {fe} (GENDER_FORMS).
FAMILIES: dict[str, dict] = load_vocabulary("families.json")
FAMILY_WEIGHTS = {key: fam["weight"] for key, fam in FAMILIES.items()}  # relative abundance among members

_members = load_vocabulary("members.json")
GENDER_FORMS = _members["gender_forms"]
FIRST_NAMES = [(row["first_name"], row["gender"]) for row in load_vocabulary("first_names.csv")]
INITIALS = _members["initials"]
WEEKDAYS = _members["weekdays"]
GENERIC_BIOS = _members["generic_bios"]  # life and motivation fragments that say nothing about skills
HOURS_WEIGHTS = {int(hours): w for hours, w in _members["hours_weights"].items()}
LIFE_STATUS = {status: re.compile(pattern) for status, pattern in _members["life_status"].items()}

# Project types: causes, families (first = the most typical need), title patterns ({de}),
# intro sentences ({a}: "à Sceaux", "au Plessis-Robinson"...).
_projects = load_vocabulary("projects.json")
PROJECT_TYPES: list[dict] = _projects["types"]
SUPPORT_FAMILIES = _projects["support_families"]  # families any project may also need
ASSOCIATIONS = _projects["associations"]
STAGES = _projects["stages"]
STAGE_WEIGHTS = _projects["stage_weights"]
LEGAL_STRUCTURE_P = _projects["legal_structure_p"]
STAGE_SENTENCES = _projects["stage_sentences"]
LEGAL_SENTENCES = {key == "true": sentences for key, sentences in _projects["legal_sentences"].items()}
NEED_PRACTICAL = _projects["need_practical"]  # time, distance and deadline of a need ({hours}, {date})
MONTHS = _projects["months"]

_offerings = load_vocabulary("offerings.json")
STAGE_OFFERINGS = _offerings["stage_offerings"]  # offerings a project may really need, by stage, with weights
OFFERING_NEED_SENTENCES = _offerings["need_sentences"]  # in the holder's words ({amount}, {small}, {goal}: euros)
OFFERING_NEXT_HINTS = _offerings["next_hints"]  # short hints about what the next stage will need

TRUTH_EXPANSION_LIMIT = 2_000_000  # beyond this many (need, member) pairs, need_members is not expanded on disk

# -- Helpers -----------------------------------------------------------------------------


def load_communes(path: Path = COMMUNES_CSV) -> dict[str, dict]:
    """Commune name -> row of ``communes_92.csv`` (postcode, insee, lat, lon); for another town, the
    communes it names, from the national table (``matching.places``)."""
    if TOWN is not None:
        from matching.places import Places

        places = Places.default()
        names = list(MEMBER_COMMUNE_WEIGHTS) + TERRITORY_COMMUNES + list(PROJECT_COMMUNE_WEIGHTS)
        found = {name: places.resolve(name) for name in names}
        return {n: {"commune": p.name, "postcode": p.postcode, "insee": p.insee} for n, p in found.items() if p is not None}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["commune"]: row for row in csv.DictReader(f)}


# -- Another town -------------------------------------------------------------------------
# data/demo/vocabulary/towns/<town>.json has the keys of territory.json ("quartiers" for the
# neighbourhoods of the main town, its first commune) and "replace": words of the Sceaux
# vocabulary and what they become in that town (partners' names, places in texts), applied to
# every text of the generated document, longest first.
TOWNS = VOCABULARY / "towns"
TOWN: str | None = None
TOWN_REPLACE: dict[str, str] = {}


def towns() -> list[str]:
    return sorted(p.stem for p in TOWNS.glob("*.json"))


def use_town(town: str | None) -> None:
    """Draw the next documents for this town (None: Sceaux Valley, the default vocabulary)."""
    global TOWN, TERRITORY, TERRITORY_COMMUNES, MEMBER_COMMUNE_WEIGHTS, PROJECT_COMMUNE_WEIGHTS, SCEAUX_QUARTIERS
    global TOWN_REPLACE, AXES
    vocabulary = _territory
    TOWN, TOWN_REPLACE = None, {}
    if town is not None:
        path = TOWNS / f"{ascii_slug(town)}.json"
        if not path.exists():
            raise ValueError(f"ville sans vocabulaire : {town!r} (connues : {', '.join(towns())}) ; ajoutez {path}")
        vocabulary = json.loads(path.read_text(encoding="utf-8"))
        TOWN, TOWN_REPLACE = path.stem, vocabulary.get("replace", {})
    TERRITORY = vocabulary["territory"]
    TERRITORY_COMMUNES = vocabulary["communes"]
    MEMBER_COMMUNE_WEIGHTS = vocabulary["member_commune_weights"]
    PROJECT_COMMUNE_WEIGHTS = vocabulary["project_commune_weights"]
    SCEAUX_QUARTIERS = vocabulary["quartiers"] if town is not None else vocabulary["sceaux_quartiers"]
    AXES = vocabulary.get("axes", []) if town is not None else _policy["axes"]


def localised(obj):
    """Every text of a document with the town's replacements (longest first)."""
    if not TOWN_REPLACE:
        return obj
    if isinstance(obj, str):
        for old in sorted(TOWN_REPLACE, key=len, reverse=True):
            obj = obj.replace(old, TOWN_REPLACE[old])
        return obj
    if isinstance(obj, list):
        return [localised(v) for v in obj]
    if isinstance(obj, dict):
        return {k: (v if k in ("id", "commune", "postcode", "stages", "kind") else localised(v)) for k, v in obj.items()}
    return obj


def de_lieu(commune: str) -> str:
    """'de Sceaux', "d'Antony", 'du Plessis-Robinson'."""
    if commune.startswith("Le "):
        return "du " + commune[3:]
    if commune.startswith("La "):
        return "de la " + commune[3:]
    if commune[0] in "AEIOUYÉÈÂ" or commune.startswith("L'"):
        return ("de " + commune) if commune.startswith("L'") else ("d'" + commune)
    return "de " + commune


def a_lieu(commune: str) -> str:
    """'à Sceaux', 'au Plessis-Robinson'."""
    if commune.startswith("Le "):
        return "au " + commune[3:]
    return "à " + commune


def ascii_slug(text: str) -> str:
    """'Aïcha' -> 'aicha' (for fictional e-mails)."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "".join(c if c.isalnum() else "-" for c in flat)


def french_date(day: dt.date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def euros(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def quotas(weights: dict[str, float], total: int) -> list[str]:
    """Largest-remainder allocation of ``total`` slots to keys, in key order."""
    norm = sum(weights.values())
    exact = {k: total * w / norm for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    rest = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], list(weights).index(k)))[:rest]:
        counts[k] += 1
    return [k for k in weights for _ in range(counts[k])]


def stage_plan(n: int) -> list[str]:
    """Stages of ``n`` projects: weighted, with at least 8 per stage when n >= 40."""
    plan = quotas(STAGE_WEIGHTS, n)
    if n >= 40:
        counts = {s: plan.count(s) for s in STAGES}
        for s in STAGES:
            while counts[s] < 8:
                donor = max(STAGES, key=lambda k: counts[k])
                counts[donor] -= 1
                counts[s] += 1
        plan = [s for s in STAGES for _ in range(counts[s])]
    return plan


def choose_offering(rng: random.Random, stage: str | None, legal_structure: bool) -> str | None:
    """An offering of ``stage`` the project is eligible for, or None after the last stage."""
    if stage is None:
        return None
    options = [o for o in STAGE_OFFERINGS[stage] if legal_structure or not o["requires_legal_structure"]]
    return rng.choices([o["offering"] for o in options], weights=[o["weight"] for o in options])[0]


# -- Members -----------------------------------------------------------------------------


def life_status(fragment: str) -> str | None:
    """'retired', 'working', 'student' or None when the fragment does not tell."""
    for status, pattern in LIFE_STATUS.items():
        if pattern.search(fragment):
            return status
    return None


def make_member(
    rng: random.Random, index: int, width: int, primary: str, communes: dict[str, dict], emails: dict[str, int]
) -> tuple[dict, list[str]]:
    """One fictional member and their hidden families (primary first)."""
    first, gender = rng.choice(FIRST_NAMES)
    g = GENDER_FORMS[gender]
    initial = rng.choice(INITIALS)
    families = [primary]
    if rng.random() < 0.25:
        families.append(rng.choice([f for f in FAMILIES if f != primary]))
    fam = FAMILIES[primary]

    commune = weighted(rng, MEMBER_COMMUNE_WEIGHTS)
    ctx = dict(g, a_commune=a_lieu(commune), years=rng.randint(2, 30))

    status: list[str | None] = [None]  # life situation of the person, fixed by the first fragment that tells it

    def pick(pool: list[str]) -> str | None:
        """A fragment of ``pool`` consistent with the person's situation (retired, working, student)."""
        options = [f for f in pool if life_status(f) in (None, status[0])] if status[0] else pool
        if not options:
            return None
        choice = rng.choice(options)
        status[0] = status[0] or life_status(choice)
        return choice

    skills = [pick(fam["skills"])]
    if rng.random() < 0.33:
        skills.append(pick([f for f in fam["skills"] if f not in skills]))
    bios = []
    if rng.random() < 0.8:
        bios.append(pick(fam["bios"]))
    if len(families) > 1:
        sec = FAMILIES[families[1]]
        if rng.random() < 0.7:
            skills.append(pick(sec["skills"]))
        else:
            bios.append(pick(sec["bios"]))
    if rng.random() < 0.7:
        bios.append(pick(GENERIC_BIOS))
    skills = [f for f in skills if f]
    bios = [f for f in bios if f]
    rng.shuffle(bios)
    if rng.random() < 0.05:  # some people only write a bio
        bios = skills + bios
        skills = []
    skills_text = " ".join(s.format(**ctx) for s in skills)
    bio_text = " ".join(b.format(**ctx) for b in bios)

    n_tags = rng.choices([0, 1, 2, 3, 4], weights=[10, 25, 30, 25, 10])[0]
    pool = list(fam["tags"]) + (FAMILIES[families[1]]["tags"][:2] if len(families) > 1 else [])
    tags = rng.sample(pool, min(n_tags, len(pool)))

    related = FAMILIES[primary]["causes"]
    causes: list[str] = []
    for _ in range(rng.choices([0, 1, 2, 3], weights=[25, 35, 28, 12])[0]):
        cause = rng.choice(related) if rng.random() < 0.6 else rng.choice(CAUSES)
        if cause not in causes:
            causes.append(cause)

    n_days = rng.choices([1, 2, 3, 4, 5, 7], weights=[20, 30, 25, 10, 8, 7])[0]
    days = sorted(rng.sample(WEEKDAYS, n_days), key=WEEKDAYS.index)
    max_eng = rng.choices([1, 2, 3], weights=[45, 35, 20])[0]
    active = 0 if rng.random() < 0.7 else rng.randint(1, max_eng)

    local = f"{ascii_slug(first)}.{initial.lower()}"
    emails[local] = emails.get(local, 0) + 1
    if emails[local] > 1:
        local += str(emails[local])

    member = {
        "id": f"m{index:0{width}d}",
        "display_name": f"{first} {initial}.",
        "skills": skills_text,
        "skill_tags": tags,
        "bio": bio_text,
        "hours_per_week": weighted(rng, HOURS_WEIGHTS),
        "days": days,
        "commune": commune,
        "postcode": communes[commune]["postcode"],
        "remote_ok": rng.random() < 0.6,
        "causes": causes,
        "consent": rng.random() < 0.85,
        "max_engagements": max_eng,
        "active_engagements": active,
        "email": f"{local}@example.org",
    }
    if not (skills_text or bio_text or tags):
        member["skill_tags"] = [fam["tags"][0]]
    return member, families


def available(member: dict) -> bool:
    """Consents and is not at full load: may be suggested for a need."""
    return member["consent"] and member["active_engagements"] < member["max_engagements"]


# -- Projects and needs ------------------------------------------------------------------


def need_practical(rng: random.Random, hours: int, remote: bool, deadline: dt.date | None) -> str:
    """A short sentence on time, distance and deadline, or ''."""
    if rng.random() < 0.3:
        return ""
    part = rng.choice(NEED_PRACTICAL["one_hour"] if hours == 1 else NEED_PRACTICAL["hours"]).format(hours=hours)
    if remote:
        part += rng.choice(NEED_PRACTICAL["remote"])
    if deadline:
        part += rng.choice(NEED_PRACTICAL["deadline"]).format(date=french_date(deadline))
    return part + "."


def make_need(rng: random.Random, need_id: str, family: str) -> dict:
    need = rng.choice(FAMILIES[family]["needs"])
    hours = rng.choices([1, 2, 3, 4, 5, 6], weights=[20, 30, 22, 14, 8, 6])[0]
    remote = FAMILIES[family]["remote"] and rng.random() < 0.75
    deadline = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365)) if rng.random() < 0.5 else None
    practical = need_practical(rng, hours, remote, deadline)
    return {
        "id": need_id,
        "title": need["title"],
        "text": f"{need['text']} {practical}".strip(),
        "hours_per_week": hours,
        "remote": remote,
        "deadline": deadline.isoformat() if deadline else None,
        "status": "open" if rng.random() < 0.85 else "closed",
        "headcount": rng.choices([1, 2], weights=[80, 20])[0],
    }


def need_families(rng: random.Random, ptype: dict) -> list[str]:
    """1 to 3 distinct families for a project's needs, mostly from its type."""
    k = rng.choices([1, 2, 3], weights=[35, 40, 25])[0]
    chosen: list[str] = []
    first = ptype["families"][0] if rng.random() < 0.6 else rng.choice(ptype["families"])
    chosen.append(first)
    while len(chosen) < k:
        pool = SUPPORT_FAMILIES if rng.random() < 0.2 else ptype["families"]
        fam = rng.choice(pool)
        if fam not in chosen:
            chosen.append(fam)
    return chosen


def project_place(rng: random.Random) -> tuple[str, str, str]:
    """(commune, 'de ...', 'à ...') for a project, sometimes a Sceaux neighbourhood."""
    commune = weighted(rng, PROJECT_COMMUNE_WEIGHTS)
    if commune == TERRITORY_COMMUNES[0] and rng.random() < 0.4:  # the main town (Sceaux)
        quartier = rng.choice(SCEAUX_QUARTIERS)
        return commune, quartier["de"], quartier["a"]
    return commune, de_lieu(commune), a_lieu(commune)


def make_project(
    rng: random.Random, index: int, width: int, stage: str, member_ids: list[str], seen_titles: set[str]
) -> tuple[dict, dict, dict, str]:
    """One project, its hidden needs' families, its hidden offerings and its type."""
    pid = f"p{index:0{width}d}"
    for _ in range(12):  # avoid duplicate titles while there is room
        ptype = rng.choice(PROJECT_TYPES)
        commune, de, a = project_place(rng)
        title = rng.choice(ptype["titles"]).format(de=de)
        if title not in seen_titles:
            break
    seen_titles.add(title)
    legal = rng.random() < LEGAL_STRUCTURE_P[stage]
    current = choose_offering(rng, stage, legal)
    next_stage = Stage(stage).next()
    nxt = choose_offering(rng, next_stage.value if next_stage else None, legal)

    amounts = {
        "amount": euros(rng.randrange(15, 85, 5) * 1000),
        "small": euros(rng.randrange(3, 13) * 1000),
        "goal": euros(rng.randrange(5, 26) * 1000),
    }
    sentences = [rng.choice(ptype["intros"]).format(a=a)]
    if rng.random() < 0.85:
        sentences.append(rng.choice(STAGE_SENTENCES[stage]))
    sentences.append(rng.choice(OFFERING_NEED_SENTENCES[current]).format(**amounts))
    extra = rng.random()
    if extra < 0.35 and nxt and nxt != current:
        sentences.append(rng.choice(OFFERING_NEXT_HINTS[nxt]))
    elif extra < 0.6:
        sentences.append(rng.choice(LEGAL_SENTENCES[legal]).format(year=rng.randint(2012, 2025)))

    causes = list(ptype["causes"])
    if rng.random() < 0.3:
        extra_cause = rng.choice(CAUSES)
        if extra_cause not in causes:
            causes.append(extra_cause)
    holder = rng.choice(member_ids) if member_ids and rng.random() < 0.35 else rng.choice(ASSOCIATIONS)

    fams = need_families(rng, ptype)
    needs = [make_need(rng, f"{pid}-n{i + 1}", fam) for i, fam in enumerate(fams)]
    project = {
        "id": pid,
        "title": title,
        "description": " ".join(sentences),
        "stage": stage,
        "causes": causes,
        "commune": commune,
        "holder": holder,
        "legal_structure": legal,
        "needs": needs,
    }
    families = {n["id"]: f for n, f in zip(needs, fams, strict=True)}
    return project, families, {"current": current, "next": nxt}, ptype["key"]


# -- Assembly, validation, output --------------------------------------------------------


def ensure_coverage(members: list[dict], member_family: dict[str, list[str]], needed: set[str], minimum: int = 3) -> list[str]:
    """Make at least ``minimum`` members available in each needed family; return families short of it."""
    short = []
    by_family: dict[str, list[dict]] = {}
    for m in members:
        for fam in member_family[m["id"]]:
            by_family.setdefault(fam, []).append(m)
    for fam in sorted(needed):
        pool = by_family.get(fam, [])
        count = sum(available(m) for m in pool)
        for m in pool:
            if count >= minimum:
                break
            if not available(m):
                m["consent"] = True
                m["active_engagements"] = 0
                count += 1
        if count < minimum:
            short.append(fam)
    return short


def validate(document: dict) -> None:
    """Validate every object with ``matching.domain``; raise on the first error."""
    Territory.model_validate(document["territory"])
    for kind, model in (("partners", Partner), ("members", Member), ("projects", Project)):
        for obj in document[kind]:
            model.model_validate(obj)
    for kind in ("members", "projects"):
        ids = [o["id"] for o in document[kind]]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{kind}: identifiants en double")
    offering_ids = {o["id"]: o for p in document["partners"] for o in p["offerings"]}
    for oid in OFFERING_NEED_SENTENCES:
        if oid not in offering_ids:
            raise ValueError(f"offre inconnue dans les phrases : {oid}")
    for fam in FAMILIES.values():
        for need in fam["needs"]:
            if len(need["title"]) > 80:
                raise ValueError(f"titre de besoin trop long : {need['title']}")


def generate(members: int = 320, projects: int = 64, seed: int = 42) -> tuple[dict, dict]:
    """Build the territory document and its truth; both validated, deterministic for a seed.

    In the returned truth, ``need_members[need]`` is the same list object as
    ``family_members[family]`` for the need's family (cheap at scale): do not mutate it.
    """
    if members < 1 or projects < 0:
        raise ValueError("members >= 1 and projects >= 0 required")
    communes = load_communes()
    for name in list(MEMBER_COMMUNE_WEIGHTS) + TERRITORY_COMMUNES:
        if name not in communes:
            raise ValueError(f"commune absente de {COMMUNES_CSV.name if TOWN is None else 'communes_fr.csv'} : {name}")

    rng_members = random.Random(f"{seed}:members")
    rng_projects = random.Random(f"{seed}:projects")

    # Members: primary families by quota (balanced), then shuffled.
    primaries = quotas(FAMILY_WEIGHTS, members)
    rng_members.shuffle(primaries)
    width_m = max(5, len(str(members)))
    emails: dict[str, int] = {}
    member_list, member_family = [], {}
    for i, primary in enumerate(primaries, start=1):
        m, fams = make_member(rng_members, i, width_m, primary, communes, emails)
        member_list.append(m)
        member_family[m["id"]] = fams

    # Projects.
    plan = stage_plan(projects)
    rng_projects.shuffle(plan)
    width_p = max(4, len(str(projects)))
    member_ids = [m["id"] for m in member_list]
    seen_titles: set[str] = set()
    project_list, need_family, project_stage, project_offerings, project_type = [], {}, {}, {}, {}
    for i, stage in enumerate(plan, start=1):
        p, nf, offers, ptype = make_project(rng_projects, i, width_p, stage, member_ids, seen_titles)
        project_type[p["id"]] = ptype
        project_list.append(p)
        need_family.update(nf)
        project_stage[p["id"]] = stage
        project_offerings[p["id"]] = offers

    open_needs = [n for p in project_list for n in p["needs"] if n["status"] == "open"]
    short = ensure_coverage(member_list, member_family, {need_family[n["id"]] for n in open_needs})

    family_members: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for m in member_list:
        if available(m):
            for fam in member_family[m["id"]]:
                family_members[fam].append(m["id"])

    document = {
        "territory": dict(TERRITORY, communes=list(TERRITORY_COMMUNES), **({"axes": copy.deepcopy(AXES)} if AXES else {})),
        "partners": copy.deepcopy(PARTNERS),
        "members": member_list,
        "projects": project_list,
    }
    document = localised(document)
    validate(document)
    for pid, offers in project_offerings.items():  # hidden offerings are consistent with stage and eligibility
        assert offers["current"] in {o["offering"] for o in STAGE_OFFERINGS[project_stage[pid]]}

    truth = {
        "seed": seed,
        "sizes": {"members": members, "projects": projects},
        "families": {k: v["label"] for k, v in FAMILIES.items()},
        "member_family": member_family,
        "need_family": need_family,
        "need_members": {n["id"]: family_members[need_family[n["id"]]] for n in open_needs},
        "family_members": family_members,
        "project_stage": project_stage,
        "project_offerings": project_offerings,
        "short_families": short,
        "member_preferences": hidden_preferences(seed, member_family),
        "project_type": project_type,
        "project_axes": {pid: list(TYPE_AXES.get(t, [])) for pid, t in project_type.items()} if AXES else {},
    }
    return document, truth


def project_text(rng: random.Random, ptype: dict, variant: int, commune: str) -> str:
    """A project's text as a holder writes it (title. intro, stage, what it needs), with the
    type's ``variant``-th title and intro: two variants of one type in one place are one initiative
    told in other words."""
    stage = rng.choice(STAGES)
    amounts = {
        "amount": euros(rng.randrange(15, 85, 5) * 1000),
        "small": euros(rng.randrange(3, 13) * 1000),
        "goal": euros(rng.randrange(5, 26) * 1000),
    }
    title = ptype["titles"][variant % len(ptype["titles"])].format(de=de_lieu(commune))
    sentences = [ptype["intros"][variant % len(ptype["intros"])].format(a=a_lieu(commune))]
    if rng.random() < 0.85:
        sentences.append(rng.choice(STAGE_SENTENCES[stage]))
    sentences.append(rng.choice(OFFERING_NEED_SENTENCES[choose_offering(rng, stage, True)]).format(**amounts))
    return f"{title}. " + " ".join(sentences)


def similar_pairs(seed: int = 42, n: int = 200) -> list[dict]:
    """Labelled pairs of project texts for calibrating similar initiatives (``maillage similar
    --calibrate``): half **near-duplicates** (one type, one commune, the other title and intro, other
    stage and money sentences: the same initiative in other words), half **distinct projects of the
    same theme** (two types that share a cause, e.g. a shared garden and a compost, in one commune).
    Drawn with a random generator of its own: the demo document does not change."""
    rng = random.Random(f"{seed}:similar")
    by_cause: dict[str, list[dict]] = {}
    for t in PROJECT_TYPES:
        for c in t["causes"]:
            by_cause.setdefault(c, []).append(t)
    themes = [ts for ts in by_cause.values() if len(ts) > 1]
    pairs = []
    for i in range(n):
        commune = weighted(rng, PROJECT_COMMUNE_WEIGHTS)
        if i % 2 == 0:
            t = rng.choice(PROJECT_TYPES)
            first = rng.randrange(2)
            a, b = project_text(rng, t, first, commune), project_text(rng, t, 1 - first, commune)
            pairs.append({"a": a, "b": b, "duplicate": True, "types": [t["key"], t["key"]]})
        else:
            t1, t2 = rng.sample(rng.choice(themes), 2)
            a, b = project_text(rng, t1, rng.randrange(2), commune), project_text(rng, t2, rng.randrange(2), commune)
            pairs.append({"a": a, "b": b, "duplicate": False, "types": [t1["key"], t2["key"]]})
    return localised(pairs)


def hidden_preferences(seed: int, member_family: dict[str, list[str]]) -> dict[str, dict]:
    """What each member would really accept (truth only, for ``maillage simulate``): the kinds of
    task of their skill families (sometimes one more), and a distance. Drawn with a random
    generator of its own: the demo document does not change."""
    rng = random.Random(f"{seed}:preferences")
    kinds = sorted({k for ks in _preferences["family_kinds"].values() for k in ks})
    out = {}
    for mid, families in member_family.items():
        wanted = {k for f in families for k in _preferences["family_kinds"].get(f, [])}
        if rng.random() < _preferences["other_kind_p"]:
            wanted.add(rng.choice(kinds))
        out[mid] = {"task_kinds": sorted(wanted), "max_km": float(weighted(rng, _preferences["max_km"]))}
    return out


def write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def truth_for_disk(truth: dict) -> dict:
    """Truth as written: ``need_members`` is dropped when it would be huge (see family_members)."""
    pairs = sum(len(v) for v in truth["need_members"].values())
    if pairs <= TRUTH_EXPANSION_LIMIT:
        return truth
    compact = {k: v for k, v in truth.items() if k != "need_members"}
    compact["need_members_omitted"] = (
        f"{pairs} paires : need_members[n] = family_members[need_family[n]] pour chaque besoin ouvert"
    )
    return compact


def summary(document: dict, truth: dict, seconds: float) -> str:
    stages = {s: 0 for s in STAGES}
    for s in truth["project_stage"].values():
        stages[s] += 1
    needs = [n for p in document["projects"] for n in p["needs"]]
    open_needs = [n for n in needs if n["status"] == "open"]
    per_need = [len(truth["need_members"][n["id"]]) for n in open_needs]
    lines = [
        f"{len(document['members'])} membres, {len(document['projects'])} projets, {len(needs)} besoins "
        f"({len(open_needs)} ouverts), {sum(len(p['offerings']) for p in document['partners'])} offres, "
        f"{len(truth['families'])} familles",
        "étapes : " + ", ".join(f"{s} {n}" for s, n in stages.items()),
        f"membres pertinents par besoin ouvert : min {min(per_need, default=0)}, max {max(per_need, default=0)}",
        f"généré et validé en {seconds:.1f} s",
    ]
    if truth["short_families"]:
        lines.append("ATTENTION, familles avec moins de 3 membres disponibles : " + ", ".join(truth["short_families"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Génère le territoire fictif Sceaux Valley (membres, projets, besoins, partenaires) "
        "et sa vérité terrain, de façon déterministe pour une graine donnée. Toutes les personnes sont fictives.",
        epilog="exemples :\n  .venv/bin/python data/generate_demo.py\n"
        "  .venv/bin/python data/generate_demo.py --members 100000 --projects 20000 "
        "--out /tmp/big.json --truth /tmp/big-truth.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=320, help="nombre de membres (défaut : 320)")
    parser.add_argument("--projects", type=int, default=64, help="nombre de projets (défaut : 64)")
    parser.add_argument("--seed", type=int, default=42, help="graine aléatoire (défaut : 42)")
    parser.add_argument(
        "--town",
        default=None,
        help="une autre ville, dont le vocabulaire est dans data/demo/vocabulary/towns/ (ex. Lyon ; défaut : Sceaux Valley)",
    )
    out_help = "document du territoire (défaut : data/demo/sceaux-valley.json)"
    parser.add_argument("--out", type=Path, default=DEMO / "sceaux-valley.json", help=out_help)
    parser.add_argument("--truth", type=Path, default=DEMO / "truth.json", help="vérité terrain (défaut : data/demo/truth.json)")
    parser.add_argument(
        "--similar-pairs",
        type=Path,
        default=None,
        help="écrire aussi des paires étiquetées (quasi-doublons / projets distincts du même thème) dans ce fichier",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.town is not None and (args.out == DEMO / "sceaux-valley.json" or args.truth == DEMO / "truth.json"):
        parser.error("--town demande --out et --truth (les fichiers de Sceaux Valley ne sont pas remplacés)")
    try:
        use_town(args.town)
    except ValueError as exc:
        parser.error(str(exc))
    document, truth = generate(args.members, args.projects, args.seed)
    elapsed = time.perf_counter() - start
    write_json(args.out, document)
    write_json(args.truth, truth_for_disk(truth))
    if args.similar_pairs is not None:
        write_json(args.similar_pairs, {"seed": args.seed, "pairs": similar_pairs(args.seed)})
    print(summary(document, truth, elapsed), file=sys.stderr)
    print(
        f"écrit : {args.out} ({args.out.stat().st_size // 1024} Kio), {args.truth} "
        f"({args.truth.stat().st_size // 1024} Kio) en {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
