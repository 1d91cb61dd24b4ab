"""The demo territory's policy axes on the overview page, in a real browser (issue 18, part 3):
the axes, their counts, the CSV link; the screenshot referenced by the README
(docs/screenshots/overview-axes.png; ``MAILLAGE_SCREENSHOTS=DIR`` writes it elsewhere)."""

from __future__ import annotations

import os
import signal

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import start_server
from tests.web.test_browser import SHOTS, _accessible, _page, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.timeout(180)


def test_overview_shows_the_demo_axes(browser, tmp_path, use_encoder) -> None:  # noqa: F811
    from matching import access
    from matching.cli import DEMO_FILE
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    data_dir = tmp_path / "var"
    rec = Recommender(Settings(data_dir=data_dir), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(DEMO_FILE))
    key = access.create_key(rec.store, "sceaux-valley", "agent")[0]
    rec.close()
    proc, base = start_server(data_dir)
    try:
        page = _page(browser, {"width": 1100, "height": 900})
        page.goto(base + "/ui/login")
        page.get_by_label("Clé d'accès").fill(key)
        page.get_by_role("button", name="Se connecter").click()
        page.goto(base + "/ui/overview")
        section = page.locator("section[aria-labelledby=h-axes]")
        expect(section.get_by_role("heading", level=2)).to_have_text("Axes de politique publique")
        for title in ("Transition écologique", "Solidarités", "Participation citoyenne", "Économie locale", "Jeunesse"):
            expect(section.get_by_role("rowheader", name=title, exact=True)).to_be_visible()
        section.locator("details").first.locator("summary").click()
        _accessible(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(SHOTS / "overview-axes.png"))
        csv = httpx.get(base + "/territories/sceaux-valley/policy.csv", headers={"X-API-Key": key}, timeout=30)
        assert csv.status_code == 200 and csv.text.startswith("axis_id,")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
