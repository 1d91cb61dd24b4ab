"""Being told (issue 17, item 4): the e-mail digests go to a real SMTP server run in the test
process (aiosmtpd), which the tests read back: members who opted in, holders, partners; never
the same item twice; weekly; rate-limited; one-click unsubscribe."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from matching import notify
from matching.clock import FixedClock
from matching.domain import RecordedEvent
from matching.errors import InvalidRequest
from tests.conftest import free_port


class Inbox:
    """What the SMTP server received (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepté"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server (aiosmtpd) in this process, and its URL."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as found:
        yield found


def body(msg: email.message.EmailMessage, kind: str = "plain") -> str:
    return msg.get_body(preferencelist=(kind,)).get_content()


def opt_in(rec) -> None:
    """m1 wants the weekly e-mail; p1's holder (m7) and the partner cowork have an address; m2 said
    "interested" on p1-n1."""
    m1 = rec.get_member("mini", "m1")
    m7 = rec.get_member("mini", "m7")
    rec.upsert_members(
        "mini",
        [
            m1.model_copy(update={"preferences": m1.preferences.model_copy(update={"digest": True})}),
            m7.model_copy(update={"email": "lina.g@example.org"}),
        ],
    )
    rec.upsert_partners("mini", [rec.get_partner("mini", "cowork").model_copy(update={"email": "contact@cowork.example"})])
    at = rec.clock.now() - dt.timedelta(minutes=1)
    ev = RecordedEvent(
        id="m2-yes", question="member_for_need", subject_id="p1-n1", candidate_id="m2", type="interested", at=at, side="candidate"
    )
    rec.record_events("mini", [ev])


def test_the_digests_arrive_once_each_weekly_and_rate_limited(rec, smtp) -> None:
    inbox, url = smtp
    rec.settings.smtp_url = SecretStr(url)
    rec.settings.notify_per_minute = 120
    opt_in(rec)
    plan = notify.notify(rec, "mini", dry_run=True)
    assert plan["planned"] == {"member": 1, "holder": 1, "partner": 1} and plan["sent"] == 0 and inbox.messages == []
    pauses: list[float] = []
    report = notify.notify(rec, "mini", sleep=pauses.append)
    assert report["sent"] == 3 and pauses == [0.5, 0.5]  # 120 a minute: half a second between two messages
    (member,) = inbox.to("claire.b@example.org")
    text = body(member)
    assert member["Subject"].startswith("3 appels à compétences pour vous") and "Bonjour Claire B." in text
    assert "Quelqu'un pour tenir la trésorerie (Épicerie solidaire du centre)" in text and "/ui/answer/" in text
    assert member["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/ui/unsubscribe/")
    assert member["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert '<html lang="fr">' in body(member, "html") and "Ne plus le recevoir" in body(member, "html")
    (holder,) = inbox.to("lina.g@example.org")
    assert "Karim D. : intéressé·e" in body(holder) and "Membres suggérés" in body(holder) and "Claire B." in body(holder)
    assert "/ui/projects/p1" in body(holder)
    (partner,) = inbox.to("contact@cowork.example")
    assert "Atelier de réparation" in body(partner) and partner["Subject"].startswith("Espace partagé : projets à regarder")
    # nobody else: no opt-in, no address
    assert len(inbox.messages) == 3
    # again at once: weekly; forced: nothing new, never the same item twice
    assert notify.notify(rec, "mini")["sent"] == 0
    assert notify.notify(rec, "mini", force=True)["sent"] == 0
    # a week later, a new call that fits Claire: only it is told
    project = rec.get_project("mini", "p3")
    new = project.needs[0].model_copy(
        update={"id": "p3-n2", "title": "Tenir les comptes de l'atelier", "text": "Comptabilité et trésorerie."}
    )
    rec.upsert_projects("mini", [project.model_copy(update={"needs": [*project.needs, new]})])
    rec.clock = FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=8))
    notify.notify(rec, "mini", sleep=lambda _: None)
    later = inbox.to("claire.b@example.org")[1]
    assert "Tenir les comptes de l'atelier" in body(later) and "Quelqu'un pour tenir la trésorerie" not in body(later)


def test_one_click_unsubscribe(rec, smtp) -> None:
    inbox, url = smtp
    rec.settings.smtp_url = SecretStr(url)
    opt_in(rec)
    notify.notify(rec, "mini", sleep=lambda _: None)
    link = inbox.to("claire.b@example.org")[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://127.0.0.1:8000")
    with TestClient(create_app(recommender=rec)) as web:
        page = web.get(path)  # a confirmation: opening the link changes nothing
        assert page.status_code == 200 and "Ne plus recevoir ce point" in page.text
        assert rec.get_member("mini", "m1").preferences.digest
        done = web.post(path, content="List-Unsubscribe=One-Click", headers={"content-type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200 and "vous ne recevrez plus" in done.text
        assert not rec.get_member("mini", "m1").preferences.digest
        assert web.post(path).status_code == 200  # again: nothing more to do
        assert web.get(path[:-4] + "abcd").status_code == 410
    rec.clock = FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=8))
    assert notify.notify(rec, "mini", dry_run=True)["planned"]["member"] == 0


def test_without_a_server_nothing_is_recorded(rec) -> None:
    opt_in(rec)
    with pytest.raises(InvalidRequest, match="MAILLAGE_SMTP_URL"):
        notify.notify(rec, "mini")
    rec.settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    with pytest.raises(OSError):
        notify.notify(rec, "mini")
    assert sum(notify.notify(rec, "mini", dry_run=True)["planned"].values()) == 3  # still to be told
    reports = notify.schedule(rec, 3600, runs=2, sleep=lambda _: None, territory_id="mini")
    assert len(reports) == 2 and all("error" in r for r in reports)
    rec.settings.smtp_url = SecretStr("http://example.org")
    with pytest.raises(InvalidRequest, match="smtp://"):
        notify.notify(rec, "mini")


def test_the_command_line(tmp_path, use_encoder, smtp) -> None:
    inbox, url = smtp
    from matching.cli import app
    from tests.conftest import MINI

    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var"), "MAILLAGE_SMTP_URL": url, "MAILLAGE_NOTIFY_PER_MINUTE": "6000"}
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["members"][0]["preferences"] = {"digest": True}
    (tmp_path / "mini.json").write_text(json.dumps(doc), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "mini.json")], env=env).exit_code == 0
    dry = runner.invoke(app, ["notify", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "1 point(s) à envoyer : 1 membre(s)" in dry.output and inbox.messages == []
    sent = runner.invoke(app, ["notify", "--json", "-t", "mini"], env=env)
    assert sent.exit_code == 0 and json.loads(sent.output)["sent"] == 1 and len(inbox.messages) == 1
    bad = runner.invoke(app, ["notify", "--since", "hier"], env=env)
    assert bad.exit_code == 2 and "--since" in bad.output
