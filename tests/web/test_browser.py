"""The web pages in a real browser: headless Chromium (Debian's) driven by Playwright against
``maillage serve`` on the mini territory. Screenshots go to docs/screenshots/ (linked from
the README); ``MAILLAGE_SCREENSHOTS=DIR`` writes them elsewhere.

The browser must be there (``bash scripts/bootstrap.sh dev`` installs it): these tests
fail, they never skip, when it is missing.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import MINI, start_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("MAILLAGE_SCREENSHOTS") or ROOT / "docs" / "screenshots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def site(tmp_path_factory, use_encoder) -> Iterator[dict]:
    """The mini territory served by a real `maillage serve` process, and a key per role."""
    from matching import access
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    data_dir = tmp_path_factory.mktemp("web") / "var"
    rec = Recommender(Settings(data_dir=data_dir), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(MINI))
    keys = {
        "agent": access.create_key(rec.store, "mini", "agent")[0],
        "holder": access.create_key(rec.store, "mini", "holder", "m7")[0],  # p1's holder
        "partner": access.create_key(rec.store, "mini", "partner", "cowork")[0],
    }
    rec.close()
    proc, base = start_server(data_dir)
    try:
        yield {"base": base, "keys": keys}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} manque : lancez `bash scripts/bootstrap.sh dev` (paquet Debian chromium)", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def _page(browser: Browser, viewport: dict = PHONE) -> Page:
    context = browser.new_context(viewport=viewport, locale="fr-FR", device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _login(page: Page, site: dict, role: str) -> None:
    page.goto(site["base"] + "/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    page.get_by_label("Clé d'accès").fill(site["keys"][role])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("status")).to_contain_text("connecté")


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')]
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
  .map((e) => e.outerHTML)"""


def _accessible(page: Page) -> None:
    """Basics a screen reader and a keyboard need: French, one h1, every control named."""
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(UNLABELLED) == []


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_login_refuses_a_bad_key_and_works_with_the_keyboard(browser, site) -> None:
    page = _page(browser)
    page.goto(site["base"] + "/ui/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # keyboard only: the skip link first, then the key field, Enter submits
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.get_by_label("Clé d'accès").focus()
    page.keyboard.type("mlg_faux_0000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Connexion refusée : clé d'API invalide")
    _accessible(page)
    _shot(page, "connexion")
    page.get_by_label("Clé d'accès").fill(site["keys"]["agent"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mini-territoire de test")
    cookie = next(c for c in page.context.cookies() if c["name"] == "maillage_key")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "maillage_key"]
    page.context.close()


def test_holder_opens_a_project_and_marks_a_suggestion_accepted(browser, site) -> None:
    page = _page(browser)
    _login(page, site, "holder")
    page.get_by_role("link", name="Épicerie solidaire du centre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Épicerie solidaire du centre")
    expect(page.locator(".chain [aria-current=step]")).to_contain_text("financement")
    # partner routing for this stage and the next, with reasons and the bar chart
    expect(page.locator("section", has=page.get_by_role("heading", name="Partenaires suggérés"))).to_contain_text(
        "Contre-garantie bancaire"
    )
    expect(page.get_by_text("étape suivante : lancement", exact=True)).to_be_visible()
    _accessible(page)
    _shot(page, "projet")
    card = page.locator("#s-p1-n1-m1")
    expect(card).to_contain_text("Claire B.")
    expect(card.locator(".reasons")).to_contain_text("compétences proches : trésorerie")
    expect(card.locator(".bars li").first).to_be_visible()
    expect(card).not_to_contain_text("claire.b@example.org")  # a holder sees a contact only once accepted
    # accepted before contacted: a French message, not an error page
    card.get_by_role("button", name="Accepté : Claire B.").click()
    expect(page.get_by_role("alert")).to_contain_text("Marquez-la d'abord « contacté »")
    _shot(page, "projet-etape-refusee")
    card = page.locator("#s-p1-n1-m1")
    expect(card.locator(".state")).to_have_text("pas encore suivi")
    card.get_by_role("button", name="Contacté : Claire B.").click()
    expect(page.get_by_role("status")).to_contain_text("Suggestion marquée « contacté »")
    card = page.locator("#s-p1-n1-m1")
    expect(card.locator(".state")).to_have_text("contacté")
    card.get_by_role("button", name="Accepté : Claire B.").click()
    expect(page.get_by_role("status")).to_contain_text("Suggestion marquée « accepté »")
    card = page.locator("#s-p1-n1-m1")
    expect(card.locator(".state")).to_have_text("accepté")
    expect(card.locator(".answer")).to_have_text("réponse du membre : pas encore de réponse")
    expect(card).not_to_contain_text("claire.b@example.org")  # the holder's side alone reveals nothing
    # the member answers through the one-time link of a message sent to them
    made = httpx.post(
        site["base"] + "/territories/mini/answer-links",
        json={"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1"},
        headers={"X-API-Key": site["keys"]["agent"]},
    )
    assert made.status_code == 200, made.text
    member = _page(browser)
    member.goto(site["base"] + made.json()["path"])
    expect(member.get_by_role("heading", level=1)).to_have_text("Votre réponse")
    expect(member.locator("main")).to_contain_text("Quelqu'un pour tenir la trésorerie")
    _accessible(member)
    _shot(member, "reponse-membre")
    member.get_by_role("button", name="J'accepte").click()
    expect(member.get_by_role("status")).to_contain_text("Votre réponse « accepté » est enregistrée")
    member.context.close()
    page.reload()
    card = page.locator("#s-p1-n1-m1")
    expect(card.locator(".answer")).to_have_text("réponse du membre : accepté")
    expect(card).to_contain_text("claire.b@example.org")  # both sides agreed: the holder may now write
    card.scroll_into_view_if_needed()
    _shot(page, "projet-accepte")
    # another holder's project: its public view only (no suggestion, no button)
    response = page.goto(site["base"] + "/ui/projects/p2")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Jardin partagé des Blagis")
    expect(page.locator("main")).not_to_contain_text("Membres suggérés")
    expect(page.get_by_role("button", name=re.compile("Contacté"))).to_have_count(0)
    page.context.close()


def test_try_a_description_shows_matches_while_typing(browser, site) -> None:
    page = _page(browser)
    _login(page, site, "agent")
    page.get_by_role("link", name="Essayer une description").click()
    page.get_by_label("Chercher").select_option("offerings")
    page.get_by_label("Description").fill("il nous faut une garantie pour obtenir le prêt")
    # no click on « Chercher »: the results follow the typing
    results = page.locator("#results")
    expect(results.locator(".result").first).to_contain_text("Contre-garantie bancaire")
    expect(results.locator(".reasons").first).to_contain_text("sens proche")  # issue 14 quotes the closest sentences since
    expect(page).to_have_url(re.compile(r"target=offerings"))
    _accessible(page)
    _shot(page, "essai", full_page=True)
    page.context.close()


def test_partner_sees_only_its_own_digest(browser, site) -> None:
    page = _page(browser)
    _login(page, site, "partner")
    expect(page).to_have_url(re.compile(r"/ui/partners/cowork$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace partagé")
    expect(page.locator("#h-digest + ol")).to_contain_text("Atelier de réparation")
    _accessible(page)
    _shot(page, "partenaire")
    for url in ("/ui/partners/banque", "/ui/overview"):
        response = page.goto(site["base"] + url)
        assert response is not None and response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
        expect(page.locator("main")).not_to_contain_text("Banque solidaire")
    # a suggested project: its public view, as the API gives it (no suggestion, no holder)
    page.goto(site["base"] + "/ui/partners/cowork")
    page.get_by_role("link", name="Atelier de réparation").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier de réparation")
    expect(page.locator("main")).to_contain_text("Un site pour annoncer nos horaires")
    expect(page.locator("main")).not_to_contain_text("Membres suggérés")
    page.goto(site["base"] + "/ui/partners/cowork")
    card = page.locator("#s-cowork-p3")
    card.get_by_role("button", name="Contacté : Atelier de réparation").click()
    expect(page.get_by_role("status")).to_contain_text("« contacté »")
    expect(page.locator("#h-suivis + ul")).to_contain_text("Atelier de réparation")
    page.context.close()


def test_agent_overview(browser, site) -> None:
    page = _page(browser, DESKTOP)
    _login(page, site, "agent")
    page.get_by_role("link", name="Vue du territoire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("vue du territoire")
    expect(page.get_by_role("heading", name="Projets par étape")).to_be_visible()
    expect(page.get_by_role("heading", name="Exposition des membres (équité)")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Indice de Gini")
    _accessible(page)
    _shot(page, "territoire", full_page=True)
    page.context.close()
