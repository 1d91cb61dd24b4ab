"""The ``maillage`` command line (typer).

Settings come from the environment (``MAILLAGE_DATA_DIR``, ``MAILLAGE_DATABASE_URL``,
``MAILLAGE_ENCODER``...) and can be overridden by the global options, e.g.::

    maillage --data-dir /tmp/ville2 demo
    maillage recommend members --need p0001-n1
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from rich.console import Console
from rich.table import Table

from matching import cli_french
from matching.domain import INDEXED_KINDS, QUESTIONS, TARGETS, Match, Stage
from matching.errors import IngestError, MaillageError
from matching.settings import PACKAGE_DATA, Settings

app = cli_french.Typer(
    name="maillage",
    help="Maillage : mise en relation de compétences, projets et partenaires sur un territoire.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
index_app = cli_french.Typer(help="Gérer l'index vectoriel (FAISS).", no_args_is_help=True)
recommend_app = cli_french.Typer(help="Poser une des quatre questions, ou chercher un texte libre.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(recommend_app, name="recommend")
events_app = cli_french.Typer(help="Retours sur les suggestions (proposé, contacté, accepté, refusé…).", no_args_is_help=True)
weights_app = cli_french.Typer(help="Poids du score : apprendre à partir des retours.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(weights_app, name="weights")
keys_app = cli_french.Typer(help="Clés d'API : chacune liée à un territoire et à un rôle.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
territory_app = cli_french.Typer(help="Territoires : en créer un pour une nouvelle ville.", no_args_is_help=True)
app.add_typer(territory_app, name="territory")
feed_app = cli_french.Typer(help="Flux de missions d'API Engagement (export).", no_args_is_help=True)
app.add_typer(feed_app, name="feed")
from matching import cli_initiatives  # noqa: E402  (its commands use this module's settings)

app.add_typer(cli_initiatives.policy_app, name="policy")
app.command("similar")(cli_initiatives.similar_cmd)
app.command("simulate")(cli_initiatives.simulate_cmd)

cli_french.install()  # typer's own texts (usage line, --help, panels, types) in French

out = Console()
err = Console(stderr=True, soft_wrap=True)
DEMO_FILE = PACKAGE_DATA / "demo" / "sceaux-valley.json"
DEFAULT_TERRITORY = "sceaux-valley"


class _State:
    overrides: ClassVar[dict[str, Any]] = {}


def settings() -> Settings:
    return Settings(**_State.overrides)


def _recommender(open_indexes: bool = True):
    from matching.recommender import Recommender

    rec = Recommender(settings())
    if open_indexes:
        rec.open(progress=True)
    return rec


@contextmanager
def _store() -> Iterator[Any]:
    """The store of the current settings, closed on exit; a user error becomes exit code 2."""
    from matching.store import Store

    store = Store(settings().database_url)
    try:
        yield store
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.dispose()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]Erreur :[/] {message}", highlight=False)
    return typer.Exit(code)


@app.callback()
def main(
    data_dir: Annotated[Path | None, typer.Option(help="Dossier des fichiers d'exécution (MAILLAGE_DATA_DIR).")] = None,
    database_url: Annotated[str | None, typer.Option(help="URL SQLAlchemy du stockage (MAILLAGE_DATABASE_URL).")] = None,
    encoder: Annotated[
        str | None,
        typer.Option(help="Encodeur : use-multilingual, minilm ou un modèle sentence-transformers (MAILLAGE_ENCODER)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Journal détaillé.")] = False,
) -> None:
    """Options communes à toutes les commandes (elles priment sur les variables d'environnement)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _State.overrides = {k: v for k, v in {"data_dir": data_dir, "database_url": database_url, "encoder": encoder}.items() if v}


@app.command()
def demo(
    file: Annotated[Path, typer.Option(help="Document de territoire à charger.")] = DEMO_FILE,
) -> None:
    """Charger le territoire de démonstration (Sceaux Valley) et construire les index."""
    _ingest(file, kind=None, territory=None)
    key = _demo_key()
    out.print("Territoire de démonstration prêt. Lancez [bold]maillage serve[/] puis ouvrez http://127.0.0.1:8000/docs")
    out.print(f"Clé d'API administrateur de démonstration (en-tête X-API-Key) : [bold]{key}[/]", highlight=False)
    out.print(f"(gardée dans {settings().data_dir / DEMO_KEY_FILE}; d'autres rôles : maillage keys create --help)")


DEMO_KEY_FILE = "demo-admin.key"


def _demo_key() -> str:
    """The demo territory's admin key: kept in the data dir, created again if lost or revoked."""
    from matching import access

    path = settings().data_dir / DEMO_KEY_FILE
    with _store() as store:
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            with contextlib.suppress(access.Unauthenticated):  # lost or revoked: a new one
                if access.authenticate(store, key).territory_id == DEFAULT_TERRITORY:
                    return key
        key, _ = access.create_key(store, DEFAULT_TERRITORY, access.Role.ADMIN, label="démonstration")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key + "\n", encoding="utf-8")
        return key


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(metavar="FICHIER", help="Fichier JSON (document de territoire ou liste), JSON Lines ou CSV.")
    ],
    kind: Annotated[
        str | None, typer.Option(help="Type des lignes : member, project, partner (déduit du nom de fichier sinon).")
    ] = None,
    territory: Annotated[
        str | None, typer.Option(help="Territoire des lignes (obligatoire hors document de territoire).")
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="maillage (JSON, JSON Lines, CSV) ou api-engagement (flux XML de missions d'API Engagement : "
            "projets et appels à compétences ; --territory obligatoire).",
        ),
    ] = "maillage",
) -> None:
    """Importer un fichier. Une ligne invalide arrête tout : rien de ce fichier n'est écrit."""
    if format_ not in INGEST_FORMATS:
        raise _fail(f"format inconnu {format_!r} ({', '.join(INGEST_FORMATS)})")
    _ingest(file, kind=kind, territory=territory, format_=format_)


INGEST_FORMATS = ("maillage", "api-engagement")


def _ingest(file: Path, *, kind: str | None, territory: str | None, format_: str = "maillage") -> None:
    from matching.engagement import read_feed
    from matching.ingest import read_file

    try:
        if format_ == "api-engagement":
            batch = read_feed(file, territory=territory)
        else:
            batch = read_file(file, kind=kind, territory=territory)
    except IngestError as exc:
        raise _fail(str(exc)) from None
    rec = _recommender()
    try:
        counts = rec.ingest(batch, progress=True)
    except MaillageError as exc:
        rec.close()
        raise _fail(f"{file.name} : {exc} (rien n'a été écrit)") from None
    lookalikes = cli_initiatives.ingest_duplicates(rec, batch)
    saved = rec.close()
    out.print(f"{file.name} importé : " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    for line in lookalikes:
        out.print(line, highlight=False)
    _warn_unsaved(saved)


def _warn_unsaved(saved: dict[str, Any]) -> None:
    """The data is in the store; say so when the index files could not follow (disk full, read-only)."""
    if saved.get("error"):
        err.print(
            "[bold yellow]Attention :[/] les données sont enregistrées dans le stockage, mais les index n'ont pas pu "
            f"être sauvegardés sur disque ({saved['error']}). Rien n'est perdu : ils seront reconstruits depuis le "
            "stockage au prochain démarrage.",
            highlight=False,
        )


@index_app.command("rebuild")
def index_rebuild(
    engine: Annotated[str, typer.Option(help="local (ce processus) ou ray (Ray Data, local ou grappe).")] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Acteurs Ray portant chacun le modèle (--engine ray).")] = 1,
    address: Annotated[
        str | None, typer.Option(help="Grappe Ray (ray://hôte:10001 ou auto ; sinon RAY_ADDRESS, sinon Ray local).")
    ] = None,
) -> None:
    """Recréer tous les index depuis le stockage (les vecteurs inchangés viennent du cache)."""
    if engine not in ("local", "ray"):
        raise _fail(f"--engine {engine!r} : attendu local ou ray")
    rec = _recommender(open_indexes=False)
    try:
        counts = rec.rebuild(progress=True, engine=engine, workers=workers, address=address)  # type: ignore[arg-type]
    finally:
        rec.close()
    out.print("Index reconstruits : " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@index_app.command("snapshot")
def index_snapshot() -> None:
    """Sauvegarder les index (un instantané avec la position du journal des changements qu'ils reflètent) :
    un processus qui démarre le charge et rejoue seulement les changements suivants."""
    rec = _recommender()
    try:
        saved = rec.snapshot(every_kind=True)
    finally:
        rec.close()
    if saved["error"]:
        raise _fail(f"instantané incomplet : {saved['error']}", code=1)
    out.print(f"Instantané écrit à la position {saved['position']} du journal : " + ", ".join(saved["saved"]))


@index_app.command("adapt")
def index_adapt(
    kind: Annotated[str, typer.Option(help="Index : member, need, offering ou project.")] = "member",
) -> None:
    """Entraîner l'adaptateur des requêtes sur les textes de l'index (sans étiquettes)."""
    if kind not in INDEXED_KINDS:
        raise _fail(f"--kind {kind!r} : attendu {', '.join(INDEXED_KINDS)}")
    rec = _recommender()
    try:
        out.print_json(json.dumps(rec.fit_adapter(kind), ensure_ascii=False))
    finally:
        rec.close()


@index_app.command("status")
def index_status() -> None:
    """Afficher l'état des index (taille, modèle, accord avec le stockage)."""
    rec = _recommender()
    try:
        out.print_json(json.dumps(rec.health(), ensure_ascii=False))
    finally:
        _warn_unsaved(rec.close())


def _print_matches(title: str, matches: list[Match], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([m.model_dump() for m in matches], ensure_ascii=False))
        return
    table = Table(title=title, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("candidat")
    table.add_column("score", justify="right")
    table.add_column("composantes")
    table.add_column("raisons")
    for i, m in enumerate(matches, 1):
        comps = "\n".join(f"{k} {v:.2f}" for k, v in m.breakdown.items())
        table.add_row(str(i), f"{m.label}\n[dim]{m.id}[/]", f"{m.score:.3f}", comps, "\n".join(m.reasons))
    out.print(table)


def _ask(title: str, fn_name: str, *args: Any, k: int, as_json: bool, **kwargs: Any) -> None:
    rec = _recommender()
    try:
        matches = getattr(rec, fn_name)(*args, k=k, **kwargs)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    _print_matches(title, matches, as_json)


TerritoryOpt = Annotated[str, typer.Option("--territory", "-t", help="Territoire.")]
KOpt = Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="Nombre de résultats.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON au lieu d'un tableau.")]


@recommend_app.command("members")
def rec_members(
    need: Annotated[str, typer.Option(help="Identifiant de l'appel à compétences.")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """Qui pourrait répondre à cet appel à compétences ?"""
    _ask(f"Membres pour {need}", "member_for_need", territory, need, k=k, as_json=as_json)


@recommend_app.command("offerings")
def rec_offerings(
    project: Annotated[str, typer.Option(help="Identifiant du projet.")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """Quelles offres de partenaires pour ce projet (étape actuelle et suivante) ?"""
    _ask(f"Offres pour {project}", "offering_for_project", territory, project, k=k, as_json=as_json)


@recommend_app.command("projects")
def rec_projects(
    partner: Annotated[str, typer.Option(help="Identifiant du partenaire.")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """Quels projets ce partenaire devrait-il regarder ?"""
    _ask(f"Projets pour {partner}", "project_for_partner", territory, partner, k=k, as_json=as_json)


@recommend_app.command("needs")
def rec_needs(
    member: Annotated[str, typer.Option(help="Identifiant du membre.")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """Quels appels à compétences ouverts pour ce membre ?"""
    _ask(f"Besoins pour {member}", "need_for_member", territory, member, k=k, as_json=as_json)


@recommend_app.command("text")
def rec_text(
    text: Annotated[str, typer.Argument(metavar="TEXTE", help="Description libre.")],
    target: Annotated[str, typer.Option(help="Ce que l'on cherche : " + ", ".join(TARGETS) + ".")] = "members",
    stage: Annotated[Stage | None, typer.Option(help="Étape (offres et projets).")] = None,
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """Chercher avec un texte libre (essayer une description avant de créer un projet)."""
    if target not in TARGETS:
        raise _fail(f"--target {target!r} : attendu {', '.join(TARGETS)}")
    _ask(f"« {text} » → {target}", "search_text", territory, text, target, stage=stage, k=k, as_json=as_json)


@app.command("eval")
def eval_(
    corpus: Annotated[Path | None, typer.Option(help='Corpus JSON Lines : {"id", "text"} par ligne.')] = None,
    queries: Annotated[
        Path | None, typer.Option(help='Requêtes JSON Lines : {"id", "text", "relevant": [ids]} par ligne.')
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Évaluer sur le territoire de démonstration et sa vérité cachée.")] = False,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="Profondeur des métriques (recall@k, ndcg@k).")] = 10,
    encoder: Annotated[str | None, typer.Option(help="Encodeur (sinon MAILLAGE_ENCODER).")] = None,
    weights: Annotated[Path | None, typer.Option(help="Fichier de poids JSON (sinon celui du service).")] = None,
    limit: Annotated[int | None, typer.Option(help="N'évaluer que les N premières requêtes.", min=1)] = None,
    adapt: Annotated[
        bool, typer.Option(help="Entraîner d'abord l'adaptateur des requêtes sur le corpus (comme index adapt).")
    ] = False,
    suite: Annotated[
        bool,
        typer.Option(
            "--suite",
            help="Toute la suite de bancs d'essai (FICHIER, sinon celle fournie : data/bench/suite.json), "
            "le service et les références simples (USE, e5, TF-IDF, fusion z) dans le même passage.",
        ),
    ] = False,
    suite_file: Annotated[
        Path | None, typer.Argument(metavar="[FICHIER]", help="Fichier de suite JSON (avec --suite).", show_default=False)
    ] = None,
) -> None:
    """Mesurer le classement du service sur un banc d'essai (JSON sur la sortie standard, progression sur stderr)."""
    from matching.evaluation import BenchmarkError, run_benchmark, run_demo_evaluation
    from matching.scoring import Weights

    if suite or suite_file is not None:
        if not suite:
            raise _fail(f"{suite_file} : un fichier de suite se donne après --suite")
        if demo or corpus is not None or queries is not None or adapt or limit:
            raise _fail("--suite ne se combine ni avec --demo, ni avec --corpus/--queries, --adapt ou --limit")
        if k != 10:
            raise _fail('avec --suite, k se règle dans le fichier de suite (champ "k")')
        from matching.suite import DEFAULT_SUITE, run_suite

        overrides = dict(_State.overrides) | ({"encoder": encoder} if encoder else {})
        try:
            w = Weights.load(weights) if weights else None
            result = run_suite(suite_file or DEFAULT_SUITE, settings=Settings(**overrides), weights=w, progress=True)
        except (BenchmarkError, MaillageError, OSError, ValueError) as exc:
            raise _fail(str(exc)) from None
        print(json.dumps(result, ensure_ascii=False))
        return
    if demo == (corpus is not None or queries is not None) or (not demo and (corpus is None or queries is None)):
        raise _fail("donnez soit --demo, soit --corpus et --queries, soit --suite [FICHIER]")

    overrides = dict(_State.overrides)
    if encoder:
        overrides["encoder"] = encoder
    try:
        w = Weights.load(weights) if weights else None
        if demo:
            result = run_demo_evaluation(k=k, settings=Settings(**overrides), weights=w, show_progress=True)
        else:
            result = run_benchmark(
                corpus, queries, k=k, settings=Settings(**overrides), weights=w, limit=limit, show_progress=True, adapt=adapt
            )
    except (BenchmarkError, MaillageError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    print(json.dumps(result, ensure_ascii=False))


@events_app.command("import")
def events_import(
    file: Annotated[
        Path, typer.Argument(metavar="FICHIER", help='JSON (liste ou {"events": [...]}), JSON Lines ou CSV d\'événements.')
    ],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    side: Annotated[
        bool,
        typer.Option(
            "--side",
            help="Lire le côté de chaque événement dans le fichier (champ side : subject, candidate ou service) : "
            "pour l'administrateur qui reprend l'historique d'un autre outil. Sans cette option, tout est "
            "enregistré du côté du demandeur (subject), comme le rapporterait un agent.",
        ),
    ] = False,
) -> None:
    """Importer des événements ; un événement invalide arrête tout (rien n'est écrit)."""
    from pydantic import ValidationError

    from matching.domain import FeedbackEvent, RecordedEvent
    from matching.ingest import read_rows
    from matching.messages import message, where

    model = RecordedEvent if side else FeedbackEvent
    try:
        events = []
        for line, row in read_rows(file):
            if not side and isinstance(row, dict) and "side" in row:
                raise _fail(
                    f"{file.name}, ligne {line}, champ 'side' : le côté n'est lu dans le fichier qu'avec --side "
                    "(sinon tout est enregistré du côté du demandeur)"
                )
            try:
                events.append(model.model_validate(row))
            except ValidationError as exc:
                e = exc.errors()[0]
                raise _fail(f"{file.name}, ligne {line}, champ {where(e['loc']) or '-'!r} : {message(e)}") from None
    except IngestError as exc:
        raise _fail(str(exc)) from None
    rec = _recommender()
    try:
        counts = rec.record_events(territory, events)
    except MaillageError as exc:
        raise _fail(f"{file.name} : {exc} (rien n'a été écrit)") from None
    finally:
        rec.close()
    out.print(f"{file.name} : {counts['recorded']} événement(s) enregistré(s), {counts['duplicates']} déjà connu(s)")


@events_app.command("link")
def events_link(
    subject: Annotated[str, typer.Option(help="Sujet de la suggestion (pour member_for_need : l'appel à compétences).")],
    candidate: Annotated[str, typer.Option(help="La personne suggérée, qui répondra (pour member_for_need : le membre).")],
    question: Annotated[str, typer.Option(help="Question : " + ", ".join(QUESTIONS) + ".")] = "member_for_need",
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    base_url: Annotated[str, typer.Option(help="Adresse publique du service, devant le chemin du lien.")] = "",
) -> None:
    """Créer un lien de réponse à usage unique pour la personne suggérée (à mettre dans un message) :
    elle y répond sans clé (J'accepte, Je suis intéressé·e, Pas pour moi), de son côté de la suggestion."""
    from matching import links

    if question not in QUESTIONS:
        raise _fail(f"--question {question!r} : attendu une des questions {', '.join(QUESTIONS)}")
    rec = _recommender(open_indexes=False)
    try:
        token, link = links.make_link(rec, territory, question, subject, candidate)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    print(f"{base_url.rstrip('/')}/ui/answer/{token}")
    err.print(f"Valable jusqu'au {link.expires_at:%d/%m/%Y} ; ne sert qu'une fois.")


@weights_app.command("fit")
def weights_fit(
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    question: Annotated[str, typer.Option(help="Question dont on apprend les poids.")] = "member_for_need",
    output: Annotated[Path | None, typer.Option(help="Fichier de poids à écrire (défaut : celui du service).")] = None,
    min_samples: Annotated[int, typer.Option(help="Suggestions closes minimum pour apprendre.", min=2)] = 30,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Mesurer sans écrire.")] = False,
) -> None:
    """Apprendre les poids d'une question à partir des retours (acceptés / refusés) ; écrit weights.json
    avec les métriques de validation. Avec trop peu de retours, les poids actuels restent."""
    from matching.learning import fit_weights

    if question not in QUESTIONS:
        raise _fail(f"--question {question!r} : attendu une des questions {', '.join(QUESTIONS)}")
    rec = _recommender()
    try:
        frame = rec.outcomes_frame(territory, question)
        weights, metrics = fit_weights(frame, question, rec.weights, min_samples=min_samples)
    except (MaillageError, ValueError) as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    target = output or rec.settings.weights
    metrics["written"] = None
    if not dry_run and metrics.get("used") == "learned":
        _write_atomic(target, weights.model_dump_json(indent=2) + "\n")
        metrics["written"] = str(target)
        # the validation figures travel with the weights they justify
        _write_atomic(
            target.with_suffix(".metrics.json"), json.dumps(metrics, ensure_ascii=False, indent=2, default=float) + "\n"
        )
    print(json.dumps(metrics, ensure_ascii=False, default=float))


def _write_atomic(path: Path, text: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@app.command()
def assign(
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="Candidats considérés par besoin.")] = 20,
    min_score: Annotated[float, typer.Option(help="Score minimum d'une affectation.", min=0.0, max=1.0)] = 0.0,
    with_assignments: Annotated[bool, typer.Option("--list", help="Inclure la liste des affectations.")] = False,
) -> None:
    """Tour d'affectation : membres aux besoins ouverts, au mieux pour le score total, sous les capacités
    des membres et le nombre de personnes demandées ; comparé au choix glouton du meilleur par besoin."""
    from matching.assignment import compare, optimal_round

    rec = _recommender()
    try:
        candidates, headcount, capacity = rec.round_candidates(territory, k=k)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    result = compare(candidates, headcount, capacity, min_score=min_score)
    if with_assignments:
        best = optimal_round(candidates, headcount, capacity, min_score=min_score)
        result["assignments"] = [a.__dict__ for a in best.assignments]
    print(json.dumps(result, ensure_ascii=False, default=float))


@app.command()
def retention(
    inactive_days: Annotated[int, typer.Option(help="Anonymiser les membres inactifs depuis ce nombre de jours.", min=1)] = 730,
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Lister sans anonymiser.")] = False,
) -> None:
    """Données personnelles : anonymiser les membres sans mise à jour ni événement depuis N jours."""
    rec = _recommender()
    try:
        ids = rec.apply_retention(territory, inactive_days, dry_run=dry_run)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    verb = "à anonymiser" if dry_run else "anonymisé(s)"
    out.print(f"{len(ids)} membre(s) {verb}" + (" : " + ", ".join(ids) if ids else ""))


@app.command()
def digest(
    partner: Annotated[str, typer.Option(help="Identifiant du partenaire.")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    k: KOpt = 10,
    html: Annotated[bool, typer.Option("--html", help="Sortie HTML au lieu de texte.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Le point de la semaine d'un partenaire : projets à regarder (jamais montrés, dans sa capacité)."""
    from matching.reports import digest_html, digest_text

    rec = _recommender()
    try:
        result = rec.partner_digest(territory, partner, k)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    if as_json:
        print(json.dumps({**result, "projects": [m.model_dump() for m in result["projects"]]}, ensure_ascii=False))
    else:
        print(digest_html(result) if html else digest_text(result))


@app.command()
def notify(
    territory: Annotated[str | None, typer.Option("--territory", "-t", help="Territoire (défaut : tous).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Dire ce qui partirait, sans rien envoyer ni enregistrer.")] = False,
    since: Annotated[
        str | None, typer.Option(help="Réponses des membres à signaler à partir de cette date (AAAA-MM-JJ ou ISO 8601).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Ignorer le rythme hebdomadaire (jamais deux fois le même élément).")
    ] = False,
    every: Annotated[
        float | None, typer.Option(min=60, help="Mode planifié : recommencer toutes les N secondes (Ctrl-C pour arrêter).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Envoyer les points par e-mail : membres (nouveaux appels), porteurs (réponses, suggestions), partenaires."""
    import datetime as dt

    from matching import notify as notifying

    try:
        when = dt.datetime.fromisoformat(since) if since else None
    except ValueError:
        raise _fail(f"--since : date invalide {since!r} (AAAA-MM-JJ attendu)") from None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    rec = _recommender()
    try:
        kw = {"territory_id": territory, "since": when, "dry_run": dry_run, "force": force}
        reports = notifying.schedule(rec, every, **kw) if every else [notifying.notify(rec, **kw)]
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    for report in reports:
        if as_json:
            print(json.dumps(report, ensure_ascii=False))
            continue
        planned = report.get("planned", {})
        verb = "à envoyer" if dry_run else "envoyé(s)"
        count = sum(planned.values()) if dry_run else report.get("sent", 0)
        out.print(
            f"{count} point(s) {verb} : {planned.get('member', 0)} membre(s), {planned.get('holder', 0)} porteur(s), "
            f"{planned.get('partner', 0)} partenaire(s)"
        )
        for m in report.get("messages", []):
            out.print(f"  {m['channel']} → {m['to']} : {m['subject']} ({len(m['items'])} élément(s))", highlight=False)


@app.command()
def exposure(
    requests: Annotated[int, typer.Option(help="Nombre de demandes simulées.", min=1, max=100_000)] = 200,
    k: KOpt = 5,
    seed: Annotated[int, typer.Option(help="Graine du tirage des demandes.")] = 0,
) -> None:
    """Équité : rejouer un mois de demandes sur le territoire de démonstration, plafonds actifs puis
    inactifs ; imprime le Gini d'exposition, la couverture et le nDCG (JSON)."""
    from matching.evaluation import simulate_exposure

    results = {}
    for caps in (False, True):
        results["caps_on" if caps else "caps_off"] = simulate_exposure(
            requests=requests, k=k, caps=caps, seed=seed, settings=settings(), show_progress=True
        )
    off, on = results["caps_off"], results["caps_on"]
    key = f"ndcg@{k}"
    results["ndcg_change"] = (on[key] - off[key]) / off[key] if off[key] else 0.0
    results["gini_change"] = on["exposure_gini"] - off["exposure_gini"]
    print(json.dumps(results, ensure_ascii=False))


# -- API keys -------------------------------------------------------------------------------------------
@keys_app.command("create")
def keys_create(
    territory: Annotated[str, typer.Option(help="Territoire de la clé (elle ne voit que lui).")],
    role: Annotated[str, typer.Option(help="admin, agent, holder, partner, analyst ou member.")],
    subject: Annotated[
        str | None,
        typer.Option(
            help="Pour holder : le porteur tel que ses projets le nomment (champ holder : un identifiant de membre "
            "ou une organisation, « Association Pas à pas ») ; pour member : l'identifiant du membre ; pour "
            "partner : celui du partenaire."
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="Note libre (à qui la clé a été donnée).")] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Créer la clé même si le territoire ou le sujet n'existe pas (encore).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="N'imprimer que la clé (pour un script).")] = False,
) -> None:
    """Créer une clé d'API. Elle n'est affichée qu'une fois : seule son empreinte est gardée. Le territoire
    et le sujet doivent exister (sinon --force)."""
    from matching import access

    if role not in set(access.Role):
        raise _fail(f"--role : {role!r} inconnu (admin, agent, holder, partner, analyst, member)")
    with _store() as store:
        key, info = access.create_key(store, territory, role, subject, label, force=force)
    if quiet:
        print(key)
        return
    who = f" pour {info.subject}" if info.subject else ""
    out.print(f"Clé {info.key_id} créée : rôle {info.role.value}{who}, territoire {info.territory_id}.")
    out.print(f"[bold]{key}[/]", highlight=False)
    err.print("Notez-la maintenant : elle ne sera plus affichée.")


@keys_app.command("list")
def keys_list(
    territory: Annotated[str | None, typer.Option(help="Seulement ce territoire.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Lister les clés (jamais leur secret)."""
    from matching import access

    with _store() as store:
        keys = access.list_keys(store, territory)
    rows = [
        {
            "key_id": k.key_id,
            "territory": k.territory_id,
            "role": k.role.value,
            "subject": k.subject,
            "label": k.label,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("clé", "territoire", "rôle", "sujet", "note", "créée", "révoquée")
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in ("key_id", "territory", "role", "subject", "label", "created_at", "revoked_at")))
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="CLÉ", help="Identifiant de la clé (colonne « clé » de keys list).")],
) -> None:
    """Révoquer une clé : elle est refusée dès la requête suivante."""
    from matching import access

    with _store() as store:
        info = access.revoke_key(store, key_id)
    out.print(f"Clé {info.key_id} révoquée ({info.role.value}, {info.territory_id}).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processus servant le même port ; chacun est une réplique (ses index en mémoire, "
            "tenus à jour par le journal des changements du stockage).",
        ),
    ] = 1,
) -> None:
    """Lancer le service HTTP (documentation interactive sur /docs)."""
    import os

    import uvicorn

    # the app factory builds its recommender from the settings: the global options travel as
    # the environment, so that a worker process started by uvicorn sees them too
    for name, value in _State.overrides.items():
        os.environ[f"MAILLAGE_{name.upper()}"] = str(value)
    replicas = f", {workers} processus" if workers > 1 else ""
    err.print(f"Maillage sur http://{host}:{port} (documentation : /docs) — données : {settings().data_dir}{replicas}")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info", workers=workers)


def run() -> None:  # console-script entry point
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except MaillageError as exc:  # e.g. the store unreachable or read-only: a sentence, not a traceback
        err.print(f"[bold red]Erreur :[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    run()


# -- territories, mission feeds ---------------------------------------------------------------------
@territory_app.command("create")
def territory_create(
    territory_id: Annotated[str, typer.Argument(metavar="ID", help="Identifiant du territoire (ex. lyon).")],
    name: Annotated[str, typer.Option(help="Nom affiché du territoire.")],
    communes: Annotated[
        str,
        typer.Option(help='Communes séparées par des virgules : noms, codes postaux ou codes INSEE (ex. "Lyon, 69100").'),
    ],
) -> None:
    """Créer un territoire ; chaque commune est cherchée dans la table nationale (nom officiel gardé)."""
    from matching.domain import Territory
    from matching.places import Places

    places = Places.default()
    resolved: list[str] = []
    for given in (c.strip() for c in communes.split(",")):
        if not given:
            continue
        place = places.resolve(given)
        if place is None:
            raise _fail(f"commune introuvable : {given!r} (nom, code postal ou code INSEE d'une commune française)")
        if place.name not in resolved:
            resolved.append(place.name)
    if not resolved:
        raise _fail("--communes : au moins une commune est attendue")
    try:
        territory = Territory(id=territory_id, name=name, communes=resolved)
    except ValueError as exc:
        raise _fail(f"territoire invalide : {exc}") from None
    rec = _recommender()
    try:
        rec.get_territory(territory_id)
    except MaillageError:
        pass
    else:
        rec.close()
        raise _fail(f"le territoire {territory_id!r} existe déjà")
    rec.upsert_territory(territory)
    rec.close()
    out.print(f"Territoire {territory_id} créé : " + ", ".join(resolved))


@feed_app.command("export")
def feed_export(
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    base_url: Annotated[str, typer.Option(help="Adresse publique du service (liens de candidature).")] = "http://127.0.0.1:8000",
    json_: Annotated[bool, typer.Option("--json", help="Corps JSON de POST /v2/mission au lieu du flux XML.")] = False,
    output: Annotated[Path | None, typer.Option("--out", help="Fichier écrit (sinon la sortie standard).")] = None,
) -> None:
    """Les appels à compétences ouverts du territoire, en flux de missions d'API Engagement."""
    from matching import engagement

    rec = _recommender(open_indexes=False)
    try:
        if json_:
            data = (
                json.dumps(engagement.missions(rec, territory, base_url=base_url), ensure_ascii=False, indent=2) + "\n"
            ).encode()
        else:
            data = engagement.feed_xml(rec, territory, base_url=base_url)
    except MaillageError as exc:
        raise _fail(str(exc)) from None
    finally:
        rec.close()
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
