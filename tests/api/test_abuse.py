"""Hostile bodies (issue 15): lone surrogates, oversized bodies, invisible characters,
validation errors in French, no coercion of ``k``, ``/metrics`` and ``/health`` behind a key.

Each test sends what a hostile (or careless) client would, to the real app over the mini
territory, and checks the answer a person reads.
"""

from __future__ import annotations

import json
import re
import unicodedata

import anyio
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from api.app import create_app
from matching.domain import Territory
from matching.settings import Settings

JSON = {"content-type": "application/json"}
ENGLISH = re.compile(r"\b(Input|should|Field|required|Extra|inputs|permitted|Value error|must|least|most)\b")
MEMBER = {"id": "m9", "display_name": "Zoé F.", "skills": "Trésorière bénévole", "consent": True}
EVENT = {
    "id": "e1",
    "question": "member_for_need",
    "subject_id": "p1-n1",
    "candidate_id": "m1",
    "type": "shown",
    "at": "2026-01-01T10:00:00Z",
}


def raw(obj: object) -> bytes:
    """JSON with every non-ASCII character escaped, so that "\\ud800" reaches the server as the escape."""
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


def french_422(r, field: str | None = None) -> list[dict]:
    """A 422 in the API's shape, every message French; the entries about ``field``, which they name."""
    assert r.status_code == 422, (r.status_code, r.text[:300])
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail
    for e in detail:
        assert set(e) >= {"loc", "msg", "type"}, e
        assert not ENGLISH.search(e["msg"]), e["msg"]
    if field is not None:
        hits = [e for e in detail if field in e["loc"]]
        assert hits, detail
        assert all(re.search(rf"« ([^»]*\.)?{field}(\[\d+\])? »", e["msg"]) for e in hits), hits
        return hits
    return detail


# -- 1. lone surrogates ----------------------------------------------------------------------------


SURROGATE_CASES = [
    ("POST", "/territories/mini/search", {"text": "abc\ud800", "target": "members"}, "text"),
    ("POST", "/territories/mini/search", {"text": "\udfff", "target": "needs", "k": 3}, "text"),
    ("POST", "/territories/mini/events", {"events": [EVENT | {"id": "e\ud800"}]}, "id"),
    ("POST", "/territories/mini/events", {"events": [EVENT | {"breakdown": {"sem\udc00": 0.5}}]}, "breakdown"),
    ("PUT", "/territories/mini/members/m9", MEMBER | {"display_name": "Zo\ud800"}, "display_name"),
    ("PUT", "/territories/mini/members/m9", MEMBER | {"skill_tags": ["ok", "x\ud800"]}, "skill_tags"),
    ("PUT", "/territories/mini", {"id": "mini", "name": "Mini \ud800"}, "name"),
    ("PUT", "/territories/mini/projects/p9", {"id": "p9", "title": "T", "needs": [{"id": "n", "title": "\ud800"}]}, "title"),
]


def test_a_lone_surrogate_is_a_french_422_naming_the_field(client, subtests) -> None:
    for method, url, body, field in SURROGATE_CASES:
        with subtests.test(msg=f"{method} {url} {field}"):
            r = client.request(method, url, content=raw(body), headers=JSON)
            (hit,) = french_422(r, field)[:1]
            assert "Unicode" in hit["msg"]
            r.content.decode("utf-8")  # the reply itself is valid UTF-8


def test_a_lone_surrogate_in_an_unknown_field_name_is_a_422_too(client) -> None:
    r = client.post("/territories/mini/search", content=raw({"text": "a", "target": "members", "x\ud800": 1}), headers=JSON)
    detail = french_422(r)
    assert "\\ud800" in json.dumps(detail, ensure_ascii=False)  # shown escaped, never as a lone surrogate


def test_a_surrogate_pair_is_a_valid_character(client) -> None:
    body = MEMBER | {"bio": "J'aime le jardin \ud83c\udf31"}  # U+1F331 written as its JSON pair
    assert b"\\ud83c\\udf31" in raw(body)
    r = client.put("/territories/mini/members/m9", content=raw(body), headers=JSON)
    assert r.status_code == 200, r.text
    assert client.get("/territories/mini/members/m9").json()["bio"] == "J'aime le jardin \U0001f331"


def test_nan_and_infinity_are_refused_without_a_server_error(client) -> None:
    body = b'{"id": "m9", "display_name": "A", "skills": "x", "hours_per_week": NaN}'
    french_422(client.put("/territories/mini/members/m9", content=body, headers=JSON), "hours_per_week")
    body = b'{"text": "a", "target": "members", "k": Infinity}'
    french_422(client.post("/territories/mini/search", content=body, headers=JSON), "k")


def test_control_characters_are_removed_before_storage(client) -> None:
    body = MEMBER | {"skills": "Trésorière\u0000 bénévole\u0007", "bio": "ligne\u000bsuivante"}
    assert client.put("/territories/mini/members/m9", content=raw(body), headers=JSON).status_code == 200
    got = client.get("/territories/mini/members/m9").json()
    assert got["skills"] == "Trésorière bénévole" and got["bio"] == "ligne suivante"


# -- 2. normalisation ------------------------------------------------------------------------------


def test_invisible_only_search_text_is_empty_like_spaces(client, subtests) -> None:
    for text in ["   ", "\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u00ad \u2066\u2069 ", "\U000e0041\U000e007f", "\x00\x07"]:
        with subtests.test(msg=ascii(text)):
            (e,) = french_422(client.post("/territories/mini/search", json={"text": text, "target": "members"}), "text")
            assert e["type"] == "string_too_short" and "vide" in e["msg"]


def test_invisible_only_text_is_empty_in_every_body(client) -> None:
    french_422(client.put("/territories/mini", json={"id": "mini", "name": "\u200b\u200b"}), "name")
    french_422(client.put("/territories/mini/members/m9", json=MEMBER | {"display_name": "\ufeff"}), "display_name")
    french_422(client.put("/territories/mini/members/m9", json=MEMBER | {"skill_tags": ["\u2060"]}), "skill_tags")
    r = client.put("/territories/mini/members/m9", json={"id": "m9", "display_name": "A", "skills": "\u200b", "bio": "\u200d"})
    assert "au moins skills" in french_422(r)[0]["msg"]


def test_invisible_characters_are_removed_before_storage(client) -> None:
    body = MEMBER | {"skills": "\ufeffTré\u00adso\u200brerie\u2060 bénévole\u200d", "skill_tags": ["compta\u200bbilité"]}
    assert client.put("/territories/mini/members/m9", json=body).status_code == 200
    got = client.get("/territories/mini/members/m9").json()
    assert got["skills"] == "Trésorerie bénévole" and got["skill_tags"] == ["comptabilité"]


def test_normalising_never_makes_invalid_input_valid(client) -> None:
    """Bounds and patterns hold on what was sent: an invisible character does not hide an excess."""
    r = client.put("/territories/mini/members/m9", json=MEMBER | {"id": "m\u200b9"})
    assert french_422(r, "id")[0]["type"] == "string_pattern_mismatch"
    r = client.post("/territories/mini/search", json={"text": "a" * 4000 + "\u200b", "target": "members"})
    assert french_422(r, "text")[0]["type"] == "string_too_long"
    r = client.put("/territories/mini/members/m9", json=MEMBER | {"skill_tags": ["t" * 100 + "\u00ad"]})
    assert french_422(r, "skill_tags")[0]["type"] == "string_too_long"


def _lexical(client, text: str, member: str = "m1") -> float:
    r = client.post("/territories/mini/search", json={"text": text, "target": "members", "k": 50})
    assert r.status_code == 200, r.text
    return next(m["breakdown"]["lexical"] for m in r.json()["matches"] if m["id"] == member)


def test_a_decomposed_query_is_found_by_the_lexical_channel(client) -> None:
    composed = _lexical(client, "trésorerie")
    assert composed > 0
    assert _lexical(client, "tre\u0301sorerie") == composed  # e + combining acute accent
    assert _lexical(client, "tré\u200bsorerie") == composed  # a zero-width space inside the word
    assert _lexical(client, "tré\u00adsorerie") == composed  # a soft hyphen


def test_the_invisible_set_covers_every_format_character_of_this_python() -> None:
    from matching.textnorm import INVISIBLE_RANGES, normalise_text

    stripped = {c for lo, hi in INVISIBLE_RANGES for c in range(lo, hi + 1)}
    format_chars = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert format_chars <= stripped, sorted(hex(c) for c in format_chars - stripped)
    # and nothing French: letters, accents, punctuation, the (narrow) no-break spaces
    kept = "aàâæçéèêëîïôœùûüÿ AÀÇÉÈÊŒ’«»…–—\u00a0\u202f€"
    assert normalise_text(kept) == kept.strip()
    assert all(not (lo <= ord(ch) <= hi) for ch in kept for lo, hi in INVISIBLE_RANGES)


def test_normalise_text_is_nfc_after_removal() -> None:
    from matching.textnorm import normalise_text

    assert normalise_text("e\u200b\u0301") == "é"  # removal first, so the accent composes
    assert normalise_text("  tre\u0301sorerie\u200b ") == "trésorerie"
    with pytest.raises(ValueError, match="Unicode"):
        normalise_text("abc\ud800")


# -- 3. French everywhere --------------------------------------------------------------------------

ROUTE_CASES = [
    ("missing", "POST", "/territories/mini/search", {"text": "a"}, "target"),
    ("missing", "POST", "/territories/mini/search", None, None),
    ("extra_forbidden", "POST", "/territories/mini/search", {"text": "a", "target": "members", "couleur": 1}, "couleur"),
    ("int_type", "POST", "/territories/mini/search", {"text": "a", "target": "members", "k": 3.5}, "k"),
    ("int_parsing", "GET", "/territories/mini/needs/p1-n1/members?k=abc", None, "k"),
    ("int_from_float", "PUT", "/territories/mini/members/m9", MEMBER | {"max_engagements": 2.5}, "max_engagements"),
    ("bool_parsing", "GET", "/territories/mini/needs/p1-n1/members?fair=peut-etre", None, "fair"),
    ("float_parsing", "GET", "/territories/mini/needs/p1-n1/members?diversity=beaucoup", None, "diversity"),
    ("string_type", "POST", "/territories/mini/search", {"text": 5, "target": "members"}, "text"),
    ("string_too_long", "POST", "/territories/mini/search", {"text": "a" * 4001, "target": "members"}, "text"),
    ("string_too_short", "PUT", "/territories/mini/members/m9", MEMBER | {"display_name": ""}, "display_name"),
    ("too_long", "PUT", "/territories/mini/members/m9", MEMBER | {"skill_tags": ["t"] * 51}, "skill_tags"),
    ("too_short", "POST", "/territories/mini/events", {"events": []}, "events"),
    ("greater_than_equal", "POST", "/territories/mini/search", {"text": "a", "target": "members", "k": 0}, "k"),
    ("less_than_equal", "POST", "/territories/mini/search", {"text": "a", "target": "members", "k": 51}, "k"),
    ("less_than", "GET", "/territories/mini/needs/p1-n1/members?diversity=1", None, "diversity"),
    ("literal_error", "POST", "/territories/mini/search", {"text": "a", "target": "chats"}, "target"),
    ("enum", "POST", "/territories/mini/search", {"text": "a", "target": "offerings", "stage": "envol"}, "stage"),
    ("string_pattern_mismatch", "PUT", "/territories/mini/members/m9", MEMBER | {"postcode": "923"}, "postcode"),
    ("string_pattern_mismatch", "GET", "/territories/mini/members/m%20x", None, "member_id"),
    (
        "date_from_datetime_parsing",
        "PUT",
        "/territories/mini/projects/p9",
        {"id": "p9", "title": "T", "needs": [{"id": "n", "title": "x", "deadline": "demain"}]},
        "deadline",
    ),
    (
        "date_from_datetime_inexact",
        "PUT",
        "/territories/mini/projects/p9",
        {"id": "p9", "title": "T", "needs": [{"id": "n", "title": "x", "deadline": "2026-01-01T10:00:00"}]},
        "deadline",
    ),
    ("datetime_from_date_parsing", "POST", "/territories/mini/events", {"events": [EVENT | {"at": "hier"}]}, "at"),
    ("model_attributes_type", "POST", "/territories/mini/events", {"events": [1]}, None),
    ("model_attributes_type", "POST", "/territories/mini/search", [], None),
    ("list_type", "PUT", "/territories/mini/members/m9", MEMBER | {"skill_tags": "a"}, "skill_tags"),
    ("float_type", "PUT", "/territories/mini/members/m9", MEMBER | {"hours_per_week": [1]}, "hours_per_week"),
    ("dict_type", "POST", "/territories/mini/events", {"events": [EVENT | {"breakdown": "x"}]}, "breakdown"),
    ("value_error", "PUT", "/territories/mini/members/m9", {"id": "m9", "display_name": "A"}, None),
    ("value_error", "PUT", "/territories/mini/members/m9", MEMBER | {"remote_ok": "oui"}, "remote_ok"),
]


def test_validation_errors_are_in_french(client, subtests) -> None:
    """Each error type the routes produce, as a person reads it: French, naming the field."""
    for type_, method, url, body, field in ROUTE_CASES:
        with subtests.test(msg=f"{type_} {method} {url}"):
            kwargs = {"json": body} if body is not None else {}
            if method == "POST" and body is None:
                kwargs = {"content": b"", "headers": JSON}
            detail = french_422(client.request(method, url, **kwargs), field)
            assert type_ in [e["type"] for e in detail], detail


def test_the_domain_keeps_its_own_french_message(client) -> None:
    (e,) = french_422(client.put("/territories/mini/members/m9", json={"id": "m9", "display_name": "A"}))
    assert e["msg"] == "corps de la requête : un membre doit avoir au moins skills, skill_tags ou bio"


def test_error_replies_never_echo_more_than_an_excerpt(client) -> None:
    text = "é" * 100_000  # 200 000 bytes, under the 256 KiB limit
    r = client.post("/territories/mini/search", json={"text": text, "target": "members"})
    (e,) = french_422(r, "text")
    assert len(r.content) < 1000
    assert e["input"].endswith("…") and len(e["input"]) <= 101
    r = client.post("/territories/mini/search", json={"text": "a", "target": "members", "z" * 50_000: 1})
    assert r.status_code == 422 and len(r.content) < 1000
    r = client.post("/territories/mini/search", json={"text": "a", "target": "members", "couleur": ["x" * 1000] * 100})
    assert r.status_code == 422 and len(r.content) < 1000


def test_a_reply_lists_at_most_twenty_errors(client) -> None:
    events = [EVENT | {"id": f"e{i}", "type": "explosé"} for i in range(60)]
    detail = french_422(client.post("/territories/mini/events", json={"events": events}))
    assert len(detail) == 21 and detail[-1]["type"] == "too_many_errors" and "40 autre(s)" in detail[-1]["msg"]


def test_unreadable_json_is_french(client) -> None:
    for body in (b'{"text": ', b"\xff\xfe{}", b"[1, 2"):
        (e,) = french_422(client.post("/territories/mini/search", content=body, headers=JSON))
        assert e["type"] == "json_invalid" and "illisible" in e["msg"], e


class _Every(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    i: int = 0
    b: bool = False
    f: float = 0.0
    s: str = Field(default="abc", min_length=2, max_length=4, pattern=r"^[a-z]+$")
    lst: list[int] = Field(default_factory=list, min_length=0, max_length=2)
    gt: int = Field(default=5, gt=0, lt=10)


@pytest.mark.parametrize(
    "data",
    [
        {"i": "x"},
        {"i": []},
        {"i": 1.5},
        {"b": []},
        {"b": "peut-être"},
        {"f": "x"},
        {"f": []},
        {"s": 1},
        {"s": "a"},
        {"s": "abcde"},
        {"s": "AB"},
        {"lst": "x"},
        {"lst": [1, 2, 3]},
        {"gt": 0},
        {"gt": 10},
        {"zz": 1},
    ],
)
def test_every_pydantic_error_is_translated(data) -> None:
    from api.errors import french_error

    with pytest.raises(ValidationError) as info:
        _Every.model_validate(data)
    for error in info.value.errors():
        e = french_error(error | {"loc": ("body", *error["loc"])})
        assert e["type"] == error["type"] and not ENGLISH.search(e["msg"]), e
        assert e["msg"].startswith("champ « ")


def test_an_unknown_error_type_has_a_french_fallback() -> None:
    from api.errors import french_error

    e = french_error({"type": "some_future_type", "loc": ("body", "x"), "msg": "Something new went wrong", "input": 1})
    assert e["msg"] == "champ « x » : valeur refusée (some_future_type)"
    adapter = TypeAdapter(dict[str, int])
    with pytest.raises(ValidationError) as info:
        adapter.validate_python({"a": "b"}, strict=True)
    assert not ENGLISH.search(french_error(info.value.errors()[0])["msg"])


def test_unknown_routes_and_methods_are_french(client) -> None:
    r = client.get("/nulle-part")
    assert r.status_code == 404 and r.json()["detail"] == "adresse inconnue"
    r = client.delete("/territories/mini/search")
    assert r.status_code == 405 and "méthode" in r.json()["detail"]


# -- 4. no coercion --------------------------------------------------------------------------------


def test_k_of_the_search_is_a_json_integer(client, subtests) -> None:
    for k in ["3", True, False, 3.0, "trois", None, [3], {"n": 3}]:
        with subtests.test(msg=repr(k)):
            body = {"text": "trésorerie", "target": "members", "k": k}
            french_422(client.post("/territories/mini/search", json=body), "k")


def test_numbers_and_booleans_of_the_entities_are_not_read_from_text(client, subtests) -> None:
    """The README's promise, for every body: "3" is not 3, "true" is not true."""
    for field, value in [("hours_per_week", "3"), ("max_engagements", "2"), ("remote_ok", "true"), ("consent", 1)]:
        with subtests.test(msg=field):
            french_422(client.put("/territories/mini/members/m9", json=MEMBER | {field: value}), field)
    event = EVENT | {"score": "0.5"}
    french_422(client.post("/territories/mini/events", json={"events": [event]}), "score")


def test_k_as_an_integer_is_fine(client) -> None:
    r = client.post("/territories/mini/search", json={"text": "trésorerie", "target": "members", "k": 3})
    assert r.status_code == 200 and len(r.json()["matches"]) == 3


# -- 5. body size ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_in_french(client) -> None:
    big = b'{"text": "' + b"a" * (50 * 1024 * 1024) + b'", "target": "members"}'
    r = client.post("/territories/mini/search", content=big, headers=JSON)
    assert r.status_code == 413, r.status_code
    assert r.headers["content-type"].startswith("application/json")
    assert "trop volumineux" in r.json()["detail"] and "262 144" in r.json()["detail"]
    assert len(r.content) < 500  # nothing of the input comes back


def test_a_body_just_under_the_limit_is_read(client) -> None:
    text = "a" * (256 * 1024 - 100)
    r = client.post("/territories/mini/search", json={"text": text, "target": "members"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "string_too_long"


def _asgi_post(app, path: str, chunks, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """Send a body chunk by chunk straight to the ASGI app; (status, reply, bytes the app pulled)."""
    pulled = 0
    sent: list[dict] = []
    source = iter(chunks)

    async def receive() -> dict:
        nonlocal pulled
        try:
            chunk = next(source)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, pulled


def test_a_chunked_body_is_cut_while_it_streams(client, key_for) -> None:
    """No Content-Length (chunked): the bytes are counted as they arrive; 50 MB are never read."""
    chunk = b"a" * 65536
    endless = (chunk for _ in range(800))  # 50 MiB if it were all read
    headers = [(b"content-type", b"application/json"), (b"x-api-key", key_for("admin")["X-API-Key"].encode())]
    status, body, pulled = _asgi_post(client.app, "/territories/mini/search", endless, headers)
    assert status == 413 and "trop volumineux" in json.loads(body)["detail"]
    assert pulled <= 256 * 1024 + len(chunk)


def test_a_lying_content_length_does_not_get_past_the_limit(client, key_for) -> None:
    chunk = b"a" * 65536
    endless = (chunk for _ in range(800))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"10"),
        (b"x-api-key", key_for("admin")["X-API-Key"].encode()),
    ]
    status, _, pulled = _asgi_post(client.app, "/territories/mini/search", endless, headers)
    assert status == 413 and pulled <= 256 * 1024 + len(chunk)


def test_the_limit_is_a_setting(rec, key_for, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MAILLAGE_MAX_BODY_BYTES", "1000")
    assert Settings(data_dir=tmp_path).max_body_bytes == 1000
    app = create_app(Settings(data_dir=tmp_path), recommender=rec)
    with TestClient(app, headers=key_for("admin")) as c:
        small = c.post("/territories/mini/search", json={"text": "trésorerie", "target": "members", "k": 2})
        assert small.status_code == 200
        r = c.post("/territories/mini/search", json={"text": "a" * 1200, "target": "members"})
        assert r.status_code == 413 and "1 000 octets" in r.json()["detail"]


def test_web_forms_have_the_same_limit(client) -> None:
    r = client.post(
        "/ui/login",
        content=b"key=" + b"a" * (300 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]
    assert "trop volumineux" in r.text and 'lang="fr"' in r.text and len(r.content) < 20_000


# -- 6. /metrics and /health -----------------------------------------------------------------------


def test_metrics_need_an_admin_key(client, rec, key_for) -> None:
    rec.upsert_territory(Territory(id="autre-ville", name="Autre ville"))
    r = client.get("/metrics", headers={"X-API-Key": ""})
    assert r.status_code == 401 and "clé" in r.json()["detail"]
    r = client.get("/metrics", headers={"X-API-Key": "mlg_nope_nope"})
    assert r.status_code == 401
    r = client.get("/metrics", headers=key_for("agent"))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = client.get("/metrics", headers=key_for("admin", territory="autre-ville"))
    assert r.status_code == 200 and "maillage_http_requests_total" in r.text
    bearer = key_for("admin")["X-API-Key"]
    r = client.get("/metrics", headers={"X-API-Key": "", "Authorization": f"Bearer {bearer}"})
    assert r.status_code == 200 and "maillage_index_vectors" in r.text


def test_health_shows_counts_only_to_an_admin(client, key_for) -> None:
    for headers in ({"X-API-Key": ""}, {"X-API-Key": "mlg_nope_nope"}, key_for("agent"), key_for("member", "m1")):
        r = client.get("/health", headers=headers)
        assert r.status_code == 200 and set(r.json()) == {"status", "encoder"}, r.json()
        assert r.json()["status"] == "ok"
    body = client.get("/health", headers=key_for("admin")).json()
    assert body["indexes"]["member"]["count"] == 8 and body["dim"] == 512


# -- 7. consent, forged events, one access policy (findings 1, 2 and 7) -----------------------------

EVENTS = "/territories/mini/events"


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat()


def _suggestion(i: str, type_: str, candidate: str, *, need: str = "p1-n1", at: str | None = None) -> dict:
    return {
        "id": i,
        "question": "member_for_need",
        "subject_id": need,
        "candidate_id": candidate,
        "type": type_,
        "at": at or _now(),
    }


def _served(client, headers, need: str = "p1-n1", k: int = 2) -> list[str]:
    """The members a key is shown for a call for skills (the service records what it served)."""
    r = client.get(f"/territories/mini/needs/{need}/members", params={"k": k}, headers=headers)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["matches"]]


def test_a_holder_alone_cannot_reveal_a_member_email(client, key_for) -> None:
    """Finding 1: the holder recorded "accepted" themself, and any member's e-mail showed."""
    holder = key_for("holder", "m7")
    served = _served(client, holder)
    assert "m1" in served
    for i, type_ in enumerate(("contacted", "accepted")):
        r = client.post(EVENTS, json={"events": [_suggestion(f"h{i}", type_, "m1")]}, headers=holder)
        assert r.status_code == 200, r.text
    assert client.get("/territories/mini/members/m1", headers=holder).json()["email"] is None
    # a member never suggested to this holder: not even a contact can be recorded
    never = next(m for m in ("m3", "m6", "m2", "m8") if m not in served)
    r = client.post(EVENTS, json={"events": [_suggestion("h9", "contacted", never)]}, headers=holder)
    assert r.status_code == 422 and "proposé" in r.json()["detail"]
    assert client.get(f"/territories/mini/members/{never}", headers=holder).json()["email"] is None


def test_a_holder_cannot_hide_a_member_with_contacts_dated_in_the_future(client, key_for) -> None:
    """Finding 2: two "contacted" dated 2999 on the holder's own calls put a member over the cap."""
    admin = {}
    target = _served(client, admin, need="p2-n1", k=3)[0]
    holder = key_for("holder", "m7")
    mine = {"id": "p9", "title": "Atelier cuisine", "holder": "m7", "needs": [{"id": "p9-n1", "title": "Jardinier"}]}
    assert client.put("/territories/mini/projects/p9", json=mine, headers=holder).status_code == 200
    for need in ("p1-n1", "p9-n1"):
        _served(client, holder, need=need, k=8)
    future = [_suggestion(f"f-{n}", "contacted", target, need=n, at="2999-01-01T00:00:00Z") for n in ("p1-n1", "p9-n1")]
    r = client.post(EVENTS, json={"events": future}, headers=holder)
    assert r.status_code == 422 and "futur" in r.json()["detail"]
    assert target in _served(client, admin, need="p2-n1", k=3)
    # dated now, on suggestions really served: recorded, and a later event is not refused
    r = client.post(EVENTS, json={"events": [_suggestion("c1", "contacted", target)]}, headers=holder)
    assert r.status_code == 200, r.text
    r = client.post(EVENTS, json={"events": [_suggestion("c2", "declined", target)]}, headers=holder)
    assert r.status_code == 200, r.text


def test_an_event_is_not_dated_before_its_suggestion_existed(client, key_for) -> None:
    holder = key_for("holder", "m7")
    assert "m1" in _served(client, holder)
    r = client.post(EVENTS, json={"events": [_suggestion("o1", "contacted", "m1", at="2020-01-01T00:00:00Z")]}, headers=holder)
    assert r.status_code == 422 and "avant" in r.json()["detail"]


def test_partner_and_member_keys_do_not_read_a_project_holder(client, key_for) -> None:
    """Finding 7: partner and member keys read any project through the API, holder id included."""
    assert client.get("/territories/mini/projects/p1").json()["holder"] == "m7"  # admin
    for headers in (key_for("partner", "cowork"), key_for("member", "m1"), key_for("holder", "m3")):
        r = client.get("/territories/mini/projects/p1", headers=headers)
        assert r.status_code == 200 and r.json()["title"] == "Épicerie solidaire du centre"
        assert r.json()["holder"] is None, headers


def test_a_holder_key_for_a_subject_that_holds_nothing_reads_only_public_things(client, key_for) -> None:
    """Finding 7: a holder key for a subject that does not exist read any member and searched all members."""
    for subject in ("nobody-here", "m3"):  # unknown, and a member who holds no project
        h = key_for("holder", subject, force=True)
        r = client.get("/territories/mini/members/m1", headers=h)
        assert r.status_code == 403 and "aucun projet" in r.json()["detail"], r.text
        r = client.post("/territories/mini/search", json={"text": "comptabilité", "target": "members"}, headers=h)
        assert r.status_code == 403 and "aucun projet" in r.json()["detail"]
        assert client.get("/territories/mini/needs/p1-n1/members", headers=h).status_code == 403
        # public things stay readable
        assert client.get("/territories/mini", headers=h).status_code == 200
        assert client.get("/territories/mini/partners/cowork", headers=h).status_code == 200
        r = client.post("/territories/mini/search", json={"text": "comptabilité", "target": "needs"}, headers=h)
        assert r.status_code == 200
