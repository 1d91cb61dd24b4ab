from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from matching.cli import app
from matching.errors import IngestError
from matching.ingest import read_file
from tests.conftest import MINI


def test_territory_document(mini_doc) -> None:
    batch = read_file(MINI)
    assert batch.counts() == {"territories": 1, "members": 8, "projects": 3, "needs": 4, "partners": 3, "offerings": 4}
    assert {tid for tid, _ in batch.members} == {"mini"}


def test_bad_row_reports_line_and_field(tmp_path, mini_doc) -> None:
    mini_doc["members"][3]["hours_per_week"] = "beaucoup"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(mini_doc, ensure_ascii=False, indent=1), encoding="utf-8")
    expected_line = (
        path.read_text(encoding="utf-8").splitlines().index('   "id": "m4",')
    )  # 0-based line of the id -> object starts one line above
    with pytest.raises(IngestError) as info:
        read_file(path)
    assert info.value.field == "hours_per_week"
    assert info.value.line == expected_line  # 1-based line of the object's "{"
    assert "bad.json" in str(info.value) and "ligne" in str(info.value)


def test_csv_members(tmp_path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "id,display_name,skills,causes,consent,hours_per_week\n"
        "c1,Anne P.,Couturière,Art et Culture pour tous|Solidarité et insertion,true,3\n"
        "c2,Bob L.,Traducteur anglais,,oui,x\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as info:
        read_file(path, territory="mini")
    assert (info.value.line, info.value.field) == (3, "hours_per_week")


def test_unknown_field_is_rejected(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "display_name": "A", "skills": "x"}\n{"id": "b", "display_name": "B", "skils": "y"}\n')
    with pytest.raises(IngestError) as info:
        read_file(path, kind="member", territory="mini")
    assert (info.value.line, info.value.field) == (2, "skils")


def test_cli_bad_file_changes_nothing(tmp_path, mini_doc, use_encoder) -> None:
    runner = CliRunner()
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    ok = runner.invoke(app, ["ingest", str(MINI)], env=env)
    assert ok.exit_code == 0, ok.output
    store_file = tmp_path / "var" / "maillage.sqlite"

    # a second file: first rows valid and new, one bad row further down
    mini_doc["members"][0]["skills"] = "TEXTE MODIFIÉ QUI NE DOIT PAS ÊTRE ÉCRIT"
    mini_doc["members"].append({"id": "new1", "display_name": "Nouveau N.", "skills": "cuisine"})
    mini_doc["members"].append({"id": "bad", "display_name": "Mauvais M.", "skills": "x", "consent": "peut-être"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(mini_doc, ensure_ascii=False, indent=1), encoding="utf-8")
    before = _dump(store_file)
    result = runner.invoke(app, ["ingest", str(bad)], env=env)
    assert result.exit_code == 2
    assert "consent" in result.output and "ligne" in result.output
    assert _dump(store_file) == before

    # also a row that validates but cannot be written (need id owned by another project)
    mini_doc["members"].pop()
    mini_doc["projects"].append({"id": "p9", "title": "Vol de besoin", "needs": [{"id": "p1-n1", "title": "x"}]})
    bad.write_text(json.dumps(mini_doc, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(bad)], env=env)
    assert result.exit_code == 2 and "rien n'a été écrit" in result.output
    assert _dump(store_file) == before


def _dump(path) -> list:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return [
            conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("territories", "members", "projects", "needs", "partners", "offerings")
        ]
