"""The read path with in-memory caches returns exactly what the SQL + pydantic path returned.

``tests/fixtures/demo_rankings.json.gz`` was written by the code before the caches (commit
fa22362) with ``rankings()`` below: the four questions for every need, project and partner
and every fourth member of the demo territory, k=10, "today" fixed at 2025-01-01. The fast
path must give the same ids, scores, breakdowns and French reasons, byte for byte. It was
written again twice since: when holders stopped being suggested for their own calls (one
list changed: the holder left it, checked by the script of that commit), and for issue 14
(partners' examples and reasons a person trusts): the offerings' lists changed (an
``examples`` component), the other three questions kept every list's ids, order and scores
(within ``TOLERANCE``) and changed only their reasons (quotes, no filler words) and listed
absent components as 0.

The encoder's arithmetic is not the same to the last bit on every CPU (BLAS kernels differ:
the fixture was written on another machine than the AMD EPYC of CI, and cosines differ by
about 1e-7 there). So ids, their order, reasons and parents must be equal; scores and score
components equal within ``TOLERANCE``. A ranking change moves them by far more.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from matching.cli import DEMO_FILE
from matching.clock import FixedClock
from matching.domain import Member
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "demo_rankings.json.gz"
T = "sceaux-valley"
TOLERANCE = 2e-6  # scores are rounded to 6 decimals: float noise may move the last one


def same_ranking(got: list, expected: list) -> bool:
    """Same ids in the same order with the same reasons and parents; numbers within TOLERANCE."""
    if len(got) != len(expected):
        return False
    for (gid, gscore, gparts, greasons, gparent), (eid, escore, eparts, ereasons, eparent) in zip(got, expected, strict=True):
        if (gid, greasons, gparent) != (eid, ereasons, eparent) or abs(gscore - escore) > TOLERANCE:
            return False
        if set(gparts) != set(eparts) or any(abs(gparts[c] - eparts[c]) > TOLERANCE for c in eparts):
            return False
    return True


TODAY = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
# the fixture's keys are the questions' method names of the time it was written
FIXTURE_KEYS = {
    "member_for_need": "members_for_need",
    "need_for_member": "needs_for_member",
    "offering_for_project": "offerings_for_project",
    "project_for_partner": "projects_for_partner",
}


def rankings(rec: Recommender) -> dict:
    doc = json.loads(DEMO_FILE.read_text())

    def dump(ms):
        return [[m.id, m.score, m.breakdown, m.reasons, m.parent_id] for m in ms]

    out: dict[str, dict] = {key: {} for key in FIXTURE_KEYS.values()}
    for p in doc["projects"]:
        out["offerings_for_project"][p["id"]] = dump(rec.offering_for_project(T, p["id"], k=10))
        for n in p["needs"]:
            out["members_for_need"][n["id"]] = dump(rec.member_for_need(T, n["id"], k=10))
    for m in doc["members"][::4]:
        out["needs_for_member"][m["id"]] = dump(rec.need_for_member(T, m["id"], k=10))
    for p in doc["partners"]:
        out["projects_for_partner"][p["id"]] = dump(rec.project_for_partner(T, p["id"], k=10))
    return json.loads(json.dumps(out, ensure_ascii=False, sort_keys=True))


def test_fast_path_returns_the_rankings_of_the_sql_path(tmp_path, use_encoder) -> None:
    rec = Recommender(Settings(data_dir=tmp_path / "var"), encoder=use_encoder, clock=FixedClock(TODAY))
    rec.open()
    rec.ingest(read_file(DEMO_FILE))
    expected = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    got = rankings(rec)
    for question in expected:
        for subject in expected[question]:
            assert same_ranking(got[question][subject], expected[question][subject]), (question, subject)
    # caches follow writes: a member who withdraws consent leaves the lists at once
    first = got["members_for_need"]["p0001-n1"][0][0]
    member = rec.get_member(T, first)
    rec.upsert_members(T, [Member.model_validate(member.model_dump() | {"consent": False})])
    assert first not in [m.id for m in rec.member_for_need(T, "p0001-n1", k=10)]
    rec.close()
