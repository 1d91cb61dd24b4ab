"""The whole loop in a real browser (issue 17, "done when"): an agent creates a project with two
calls for skills; its holder sees the suggested members and marks one contacted; that member,
logged in, says interested and accepts; the holder accepts too and then sees the contact details;
the weekly digests arrive at an SMTP server run in this test process (aiosmtpd).

Headless Chromium (Debian's) drives ``maillage serve`` on the mini territory, as in
``test_browser.py``; screenshots go to docs/screenshots/ (``MAILLAGE_SCREENSHOTS`` elsewhere).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from tests.conftest import MINI, start_server
from tests.matching.test_notify import Inbox, body, smtp_server
from tests.web.test_browser import _accessible, _page, _shot, browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as found:
        yield found


@pytest.fixture(scope="module")
def loop_site(tmp_path_factory, use_encoder, inbox) -> Iterator[dict]:
    from matching import access
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    data_dir = tmp_path_factory.mktemp("loop") / "var"
    rec = Recommender(Settings(data_dir=data_dir), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(MINI))
    keys = {
        "agent": access.create_key(rec.store, "mini", "agent")[0],
        "holder": access.create_key(rec.store, "mini", "holder", "m7")[0],
        "member": access.create_key(rec.store, "mini", "member", "m8")[0],
    }
    rec.close()
    proc, base = start_server(data_dir, env={"MAILLAGE_SMTP_URL": inbox[1]})
    try:
        yield {"base": base, "keys": keys, "data_dir": data_dir}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def login(page: Page, site: dict, role: str) -> None:
    page.goto(site["base"] + "/ui/login")
    page.get_by_label("Clé d'accès").fill(site["keys"][role])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("status")).to_contain_text("connecté")


def test_the_whole_loop(browser, loop_site, inbox, use_encoder) -> None:  # noqa: F811 - the browser fixture
    site = loop_site
    # 1. an agent creates a project and its two calls for skills, and gives the holder an address
    agent = _page(browser)
    login(agent, site, "agent")
    agent.get_by_role("link", name="Nouveau projet").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Nouveau projet")
    agent.get_by_label(re.compile("^Titre")).fill("Ressourcerie des Blagis")
    agent.get_by_label("Description", exact=True).fill("Collecter, réparer et revendre les objets du quartier.")
    agent.get_by_label("Étape").select_option("lancement")
    agent.get_by_label("Commune").fill("Antony")
    agent.get_by_label(re.compile("^Causes")).fill("Réemploi")
    agent.get_by_label(re.compile("^Porteur")).fill("m7")
    _accessible(agent)
    _shot(agent, "projet-nouveau", full_page=True)
    agent.get_by_role("button", name="Enregistrer").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Ressourcerie des Blagis")
    for title, text, remote in (
        ("Tenir les comptes de la ressourcerie", "Suivre la trésorerie, le budget et les finances de l'association.", False),
        ("Réparer les vélos donnés", "Remettre en état freins et chaînes, bricolage.", True),
    ):
        agent.get_by_role("link", name="Ajouter un appel à compétences").click()
        agent.get_by_label(re.compile("^Ce qui est cherché")).fill(title)
        agent.get_by_label("Description de la mission").fill(text)
        agent.get_by_label("Heures par semaine").fill("1")
        if remote:
            agent.get_by_label("Possible à distance (sinon sur place)").check()
        agent.get_by_role("button", name="Enregistrer").click()
        expect(agent.get_by_role("heading", name=title)).to_be_visible()
    agent.goto(site["base"] + "/ui/members/m7/edit")
    agent.get_by_label("Adresse e-mail").fill("lina.g@example.org")
    agent.get_by_role("button", name="Enregistrer").click()
    expect(agent.get_by_role("status")).to_contain_text("Enregistré")
    agent.context.close()
    need = "ressourcerie-des-blagis-n1"

    # 2. the holder sees the suggested members and marks one contacted
    holder = _page(browser)
    login(holder, site, "holder")
    holder.get_by_role("link", name="Ressourcerie des Blagis").click()
    card = holder.locator(f"#s-{need}-m8")
    expect(card).to_contain_text("Hugo R.")
    card.get_by_role("button", name="Contacté : Hugo R.").click()
    expect(holder.get_by_role("status")).to_contain_text("« contacté »")

    # 3. that member, logged in, says interested, then accepts; and asks for the weekly e-mail
    member = _page(browser)
    login(member, site, "member")
    card = member.locator(f"#s-{need}-m8")
    expect(card).to_contain_text("Tenir les comptes de la ressourcerie")
    card.get_by_role("button", name=re.compile("^Je suis intéressé·e")).click()
    card = member.locator(f"#s-{need}-m8")
    expect(card.locator(".answer")).to_have_text("votre réponse : intéressé·e")
    _accessible(member)
    _shot(member, "membre-appels")
    card.get_by_role("button", name=re.compile("^J'accepte")).click()
    expect(member.locator(f"#s-{need}-m8 .answer")).to_have_text("votre réponse : accepté")
    member.get_by_role("link", name="Mon profil", exact=True).click()
    member.get_by_label(re.compile("^Recevoir chaque semaine")).check()
    member.get_by_label("Adresse e-mail").fill("hugo.r@example.org")
    member.get_by_role("button", name="Enregistrer").click()
    expect(member.get_by_role("status")).to_contain_text("Enregistré")
    member.context.close()

    # 4. the holder sees the member among the interested, accepts, and now sees the contact details
    holder.reload()
    expect(holder.locator(".interested")).to_contain_text("Hugo R.")
    card = holder.locator(f"#s-{need}-m8")
    expect(card).not_to_contain_text("hugo.r@example.org")
    card.get_by_role("button", name="Accepté : Hugo R.").click()
    card = holder.locator(f"#s-{need}-m8")
    expect(card.locator(".answer")).to_have_text("réponse du membre : accepté")
    expect(card).to_contain_text("hugo.r@example.org")
    holder.context.close()

    # 5. the weekly digests go out (as `maillage notify` sends them) and arrive at the SMTP server
    from matching import notify
    from matching.recommender import Recommender
    from matching.settings import Settings

    box, url = inbox
    rec = Recommender(Settings(data_dir=site["data_dir"], smtp_url=SecretStr(url)), encoder=use_encoder)
    rec.open()
    try:
        report = notify.notify(rec, "mini", sleep=lambda _: None)
    finally:
        rec.close()
    assert report["planned"]["member"] == 1 and report["planned"]["holder"] == 1, report
    (to_member,) = box.to("hugo.r@example.org")
    assert "Bonjour Hugo R." in body(to_member) and "/ui/unsubscribe/" in to_member["List-Unsubscribe"]
    (to_holder,) = box.to("lina.g@example.org")
    assert "Hugo R. : accepte" in body(to_holder) and "Réparer les vélos donnés" in body(to_holder)

    # 6. the territory's open calls travel as an API Engagement mission feed: the two new calls are
    # in it, with the structure of API Engagement's example feed, and the feed re-imported into an
    # empty territory exports identically (the build date aside: the service's clock is real)
    import httpx

    from matching import engagement
    from matching.domain import Territory
    from tests.matching.test_engagement import FEED, structure

    r = httpx.get(f"{site['base']}/territories/mini/feeds/missions.xml", headers={"X-API-Key": site["keys"]["agent"]}, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    feed = r.content
    titles = [m.findtext("title") for m in engagement_root(feed).findall("mission")]
    assert {"Tenir les comptes de la ressourcerie", "Réparer les vélos donnés"} <= set(titles), titles
    assert set(structure(feed)) <= set(structure(FEED.read_bytes())) | {
        ("source", "mission", "organizationDescription"),
        ("source", "mission", "type"),
    }
    path = site["data_dir"].parent / "missions.xml"
    path.write_bytes(feed)
    other = Recommender(Settings(data_dir=site["data_dir"].parent / "other"), encoder=use_encoder)
    other.open()
    try:
        other.upsert_territory(Territory.model_validate(json.loads(MINI.read_text(encoding="utf-8"))["territory"]))
        other.ingest(engagement.read_feed(path, territory="mini"))
        again = engagement.feed_xml(other, "mini", base_url=site["base"] + "/")
    finally:
        other.close()
    assert without_build_date(again) == without_build_date(feed)


def engagement_root(xml: bytes):
    from defusedxml.ElementTree import fromstring

    return fromstring(xml)


def without_build_date(xml: bytes) -> bytes:
    return re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", xml)
