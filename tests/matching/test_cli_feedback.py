"""CLI: events import (all or nothing, line and field), partner digest, weights fit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from matching.cli import app
from tests.conftest import MINI


def setup(tmp_path) -> dict:
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    assert CliRunner().invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    return env


def test_events_import_reports_line_and_field_and_writes_nothing(tmp_path, use_encoder) -> None:
    env = setup(tmp_path)
    runner = CliRunner()
    good = {
        "id": "e1",
        "question": "member_for_need",
        "subject_id": "p1-n1",
        "candidate_id": "m1",
        "type": "shown",
        "at": "2026-11-02T10:00:00",
    }
    bad = good | {"id": "e2", "type": "contacted", "at": "hier"}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["events", "import", str(path), "-t", "mini"], env=env)
    assert result.exit_code == 2 and "ligne 2" in result.output and "'at'" in result.output
    # a transition error in a valid file: nothing written either
    wrong = good | {"id": "e3", "type": "completed", "at": "2026-11-02T11:00:00"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(wrong) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["events", "import", str(path), "-t", "mini"], env=env)
    assert result.exit_code == 2 and "rien n'a été écrit" in result.output
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        "id,question,subject_id,candidate_id,type,at\ne1,member_for_need,p1-n1,m1,shown,2026-11-02T10:00:00\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["events", "import", str(csv_path), "-t", "mini"], env=env)
    assert result.exit_code == 0 and "1 événement(s) enregistré(s)" in result.output
    result = runner.invoke(app, ["events", "import", str(csv_path), "-t", "mini"], env=env)
    assert "0 événement(s) enregistré(s), 1 déjà connu(s)" in result.output


def test_digest_text_html_json(tmp_path, use_encoder) -> None:
    env = setup(tmp_path)
    runner = CliRunner()
    text = runner.invoke(app, ["digest", "--partner", "labo", "-t", "mini"], env=env)
    assert text.exit_code == 0 and "Labo des idées — projets à regarder" in text.output and "Jardin partagé" in text.output
    html = runner.invoke(app, ["digest", "--partner", "labo", "-t", "mini", "--html"], env=env)
    assert html.output.startswith("<!doctype html>") and 'lang="fr"' in html.output
    body = json.loads(runner.invoke(app, ["digest", "--partner", "labo", "-t", "mini", "--json"], env=env).output)
    assert body["projects"][0]["id"] == "p2"
    missing = runner.invoke(app, ["digest", "--partner", "nobody", "-t", "mini"], env=env)
    assert missing.exit_code == 2 and "partenaire introuvable" in missing.output


def test_weights_fit_keeps_hand_set_weights_with_little_feedback(tmp_path, use_encoder) -> None:
    env = setup(tmp_path)
    result = CliRunner().invoke(app, ["weights", "fit", "-t", "mini", "--output", str(tmp_path / "w.json")], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["used"] == "base" and body["written"] is None and "reason" in body
    assert not (tmp_path / "w.json").exists()


def test_weights_fit_writes_weights_and_metrics(tmp_path, use_encoder) -> None:
    """On the demo, members who would travel always decline: the learned table is written."""
    import datetime as dt

    from matching.domain import FeedbackEvent
    from matching.recommender import Recommender
    from matching.scoring import Weights
    from matching.settings import Settings

    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    assert CliRunner().invoke(app, ["demo"], env=env).exit_code == 0
    rec = Recommender(Settings(data_dir=tmp_path / "var"), encoder=use_encoder)
    rec.open()
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    events, i = [], 0
    from matching.evaluation import DEMO_TRUTH

    for need in sorted(json.loads(DEMO_TRUTH.read_text(encoding="utf-8"))["need_members"])[:60]:
        for m in rec.member_for_need("sceaux-valley", need, k=8, fair=False):
            at = start + dt.timedelta(hours=i)
            common = {"question": "member_for_need", "subject_id": need, "candidate_id": m.id}
            events.append(FeedbackEvent(id=f"s{i}", type="shown", at=at, score=m.score, breakdown=m.breakdown, **common))
            if m.breakdown["place"] >= 0.5:
                events.append(FeedbackEvent(id=f"c{i}", type="contacted", at=at + dt.timedelta(minutes=1), **common))
                events.append(FeedbackEvent(id=f"a{i}", type="accepted", at=at + dt.timedelta(minutes=2), **common))
            else:
                events.append(FeedbackEvent(id=f"d{i}", type="declined", at=at + dt.timedelta(minutes=1), **common))
            i += 1
    rec.record_events("sceaux-valley", events)
    rec.close()
    out = tmp_path / "w.json"
    result = CliRunner().invoke(app, ["weights", "fit", "--output", str(out)], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["used"] == "learned" and body["written"] == str(out)
    assert Weights.load(out).member_for_need["place"] == body["weights"]["place"] > 0.2
    assert json.loads(out.with_suffix(".metrics.json").read_text(encoding="utf-8"))["learned"]["auc"] > body["base"]["auc"]


def test_events_import_reads_a_csv_score_as_a_number_and_the_side_only_with_side(tmp_path, use_encoder) -> None:
    env = setup(tmp_path)
    runner = CliRunner()
    csv_path = tmp_path / "events.csv"
    header = "id,question,subject_id,candidate_id,type,at,score\n"
    csv_path.write_text(header + "e1,member_for_need,p1-n1,m1,shown,2026-11-02T10:00:00,0.61\n", encoding="utf-8")
    result = runner.invoke(app, ["events", "import", str(csv_path), "-t", "mini"], env=env)
    assert result.exit_code == 0, result.output
    csv_path.write_text(header + "e2,member_for_need,p1-n1,m2,shown,2026-11-02T10:00:00,beaucoup\n", encoding="utf-8")
    result = runner.invoke(app, ["events", "import", str(csv_path), "-t", "mini"], env=env)
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "ligne 2" in text and "'score'" in text and "un nombre est attendu" in text, text
    # the side: the subject's unless an admin imports with --side, then the file's
    sided = tmp_path / "sided.jsonl"
    answer = {"id": "e3", "question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1", "type": "accepted"}
    sided.write_text(json.dumps(answer | {"at": "2026-11-03T10:00:00", "side": "candidate"}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["events", "import", str(sided), "-t", "mini"], env=env)
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "--side" in text, text
    result = runner.invoke(app, ["events", "import", str(sided), "-t", "mini", "--side"], env=env)
    assert result.exit_code == 0, result.output
    from matching.recommender import Recommender
    from matching.settings import Settings

    rec = Recommender(Settings(data_dir=tmp_path / "var"), encoder=use_encoder)
    got = {e.id: (e.side, e.score) for e in rec.list_events("mini")}
    rec.close()
    assert got == {"e1": ("subject", 0.61), "e3": ("candidate", None)}


def test_events_link_prints_a_one_time_answer_link(tmp_path, use_encoder) -> None:
    from matching import links
    from matching.recommender import Recommender
    from matching.settings import Settings

    env = setup(tmp_path)
    args = ["events", "link", "--subject", "p1-n1", "--candidate", "m1", "-t", "mini", "--base-url", "https://maillage.example/"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://maillage.example/ui/answer/")
    rec = Recommender(Settings(data_dir=tmp_path / "var"), encoder=use_encoder)
    link = links.read_link(rec, url.rsplit("/", 1)[1])
    assert (link.question, link.subject_id, link.candidate_id) == ("member_for_need", "p1-n1", "m1")
    rec.close()
    missing = CliRunner().invoke(app, ["events", "link", "--subject", "p1-n1", "--candidate", "m404", "-t", "mini"], env=env)
    assert missing.exit_code == 2 and "membre introuvable" in missing.output
