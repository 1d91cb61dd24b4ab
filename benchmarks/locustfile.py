"""Locust scenario: the four questions and the free-text search on a generated territory.

Used by ``benchmarks/load.sh``; ids are drawn from the generated document given in
MAILLAGE_LOAD_DOC (so every request targets an entity that exists).
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

DOC = json.loads(open(os.environ["MAILLAGE_LOAD_DOC"], encoding="utf-8").read())  # noqa: SIM115
T = DOC["territory"]["id"]
MEMBERS = [m["id"] for m in DOC["members"]]
PROJECTS = [p["id"] for p in DOC["projects"]]
NEEDS = [n["id"] for p in DOC["projects"] for n in p["needs"] if n["status"] == "open"]
PARTNERS = [p["id"] for p in DOC["partners"]]
TEXTS = [
    "quelqu'un pour tenir la trésorerie",
    "un bureau à Sceaux pour trois personnes",
    "animer un atelier vélo",
    "traduire des documents en anglais",
]


class Visitor(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers["X-API-Key"] = os.environ["MAILLAGE_LOAD_KEY"]  # an agent key (load.sh makes it)

    @task(4)
    def members_for_need(self) -> None:
        self.client.get(f"/territories/{T}/needs/{random.choice(NEEDS)}/members?k=10", name="members_for_need")

    @task(2)
    def offerings_for_project(self) -> None:
        self.client.get(f"/territories/{T}/projects/{random.choice(PROJECTS)}/offerings?k=5", name="offerings_for_project")

    @task(1)
    def projects_for_partner(self) -> None:
        self.client.get(f"/territories/{T}/partners/{random.choice(PARTNERS)}/projects?k=10", name="projects_for_partner")

    @task(3)
    def needs_for_member(self) -> None:
        self.client.get(f"/territories/{T}/members/{random.choice(MEMBERS)}/needs?k=10", name="needs_for_member")

    @task(1)
    def search(self) -> None:
        body = {"text": random.choice(TEXTS), "target": "members", "k": 10}
        self.client.post(f"/territories/{T}/search", json=body, name="search")
