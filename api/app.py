"""The FastAPI application factory.

Example:
    >>> from fastapi.testclient import TestClient
    >>> with TestClient(create_app(Settings(data_dir="/tmp/maillage-doc"))) as client:  # doctest: +SKIP
    ...     client.get("/health").json()["status"]
    'ok'
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import errors, initiatives, limits, lists, metrics, routes, web, web_edit
from matching.recommender import Recommender
from matching.settings import Settings

DESCRIPTION = """
**Maillage** met en relation, sur un territoire, les membres (leurs compétences), les
projets (leurs appels à compétences et leur étape) et les partenaires (leurs offres à
chaque étape de la chaîne d'accompagnement : idée → test → financement → lancement →
croissance).

Chaque appel (sauf `/health` et la documentation) exige une clé d'API dans l'en-tête
`X-API-Key` (`maillage keys create`) : elle est liée à un territoire et à un rôle
(admin, agent, holder, partner, analyst, member). Un autre territoire répond 404.

Un corps de requête de plus de {max_body} octets (réglage `MAILLAGE_MAX_BODY_BYTES`) est
refusé (413). Les erreurs de validation (422) nomment le champ en cause, en français ; le texte
est normalisé (NFC, caractères invisibles retirés) et un texte qui ne contient que des
espaces ou des caractères invisibles est vide.

Chaque suggestion porte un score entre 0 et 1, le détail de ses composantes nommées et
des raisons en français. Elle a deux côtés : le demandeur (qui a demandé) et la personne
suggérée ; chaque événement est enregistré du côté que représente la clé. Les coordonnées d'un
membre ne sont montrées à un porteur qu'une fois que les deux côtés ont accepté.
"""

TAGS = [
    {"name": "questions", "description": "Les quatre questions et la recherche en texte libre"},
    {"name": "membres", "description": "Créer, lire, supprimer des membres"},
    {"name": "projets", "description": "Créer, lire, supprimer des projets et leurs appels à compétences"},
    {"name": "partenaires", "description": "Créer, lire, supprimer des partenaires et leurs offres"},
    {"name": "listes", "description": "Lister projets, appels à compétences, partenaires et membres, avec filtres et pages"},
    {"name": "territoires", "description": "Territoires (chacun isolé des autres)"},
    {"name": "retours", "description": "Ce qui arrive après une suggestion : contact, réponses, acceptation de chaque côté…"},
    {"name": "politique publique", "description": "Alignement des projets avec les axes de politique publique du territoire"},
    {"name": "initiatives semblables", "description": "Projets qui se ressemblent : se regrouper plutôt que se doubler"},
    {"name": "service", "description": "État du service"},
]


def create_app(settings: Settings | None = None, recommender: Recommender | None = None) -> FastAPI:
    """Build the app. Give a ``recommender`` to share one (tests, notebooks), else one is
    built from ``settings`` when the app starts and closed when it stops."""

    # the app's own settings (body limit): those given, else the shared recommender's, else the environment
    config = settings or (recommender.settings if recommender is not None else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rec = recommender or Recommender(config)
        metrics.configure_logging(rec.settings.log_format)
        if not rec.is_open:
            rec.open()
        rec.warm_up()  # load the model now, not during the first request
        # Requests run in a thread pool (40 threads by default). On a few cores, 40 Python
        # threads fighting for the GIL and the index lock make a convoy: throughput falls
        # and a few requests wait tens of seconds. A small pool queues the rest in the
        # event loop, in arrival order.
        anyio.to_thread.current_default_thread_limiter().total_tokens = rec.settings.threads
        app.state.recommender = rec
        rec.feed.start()  # other processes' writes, from the store's change log
        try:
            yield
        finally:
            rec.feed.stop()
            if recommender is None:
                rec.close()

    app = FastAPI(
        title="Maillage",
        version="0.1.0",
        summary="Mise en relation de compétences pour l'innovation territoriale",
        description=DESCRIPTION.replace("{max_body}", limits.format_bytes(config.max_body_bytes)),
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    errors.install(app)
    limits.install(app, config.max_body_bytes)
    metrics.install(app)  # outermost: counts the 413s too
    app.include_router(routes.public)
    app.include_router(routes.router)
    app.include_router(lists.router)
    app.include_router(initiatives.router)
    web_edit.install(app)  # the edit forms first: /ui/projects/new is a form, not a project
    web.install(app)  # the French web pages under /ui, and / -> /ui/
    return app
