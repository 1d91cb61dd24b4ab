"""Routes: each one validates, calls the recommender, returns. No SQL, no FAISS."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.deps import Anyone, EntityId, K, Rec, Staff, TerritoryId, allow, require_admin
from api.schemas import (
    AnswerLink,
    AnswerLinkRequest,
    Digest,
    EventBatch,
    EventReceipt,
    Health,
    MatchList,
    MemberExport,
    Problem,
    RomeRequest,
    RomeSuggestions,
    Routing,
    SearchRequest,
)
from matching import access, engagement, links, rome, similar
from matching.access import Principal, Role
from matching.domain import Member, Partner, Project, QuestionName, RecordedEvent, Side, Territory
from matching.errors import InvalidRequest

AUTH = {
    401: {"model": Problem, "description": "Clé d'API manquante, invalide ou révoquée"},
    403: {"model": Problem, "description": "Le rôle de la clé ne permet pas cette opération"},
}
R413 = {413: {"model": Problem, "description": "Corps de requête trop volumineux (MAILLAGE_MAX_BODY_BYTES)"}}
router = APIRouter(responses=AUTH | R413)  # every route of this router requires a key
public = APIRouter()
R404 = {404: {"model": Problem, "description": "Identifiant inconnu dans ce territoire (ou autre territoire)"}}
R422 = {422: {"model": Problem, "description": "Requête invalide (le champ en cause est indiqué)"}}
ERR = R404 | R422
A, G, H, P, N, M = Role.ADMIN, Role.AGENT, Role.HOLDER, Role.PARTNER, Role.ANALYST, Role.MEMBER
R409 = {409: {"model": Problem, "description": "Conflit avec ce qui est enregistré"}}


def _same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise InvalidRequest(f"id : {body_id!r} dans le corps, {path_id!r} dans l'URL")


# -- service -------------------------------------------------------------------------------
@public.get(
    "/health",
    tags=["service"],
    summary="État du service (le détail des index avec une clé admin)",
    description=(
        "Sans clé (répartiteur de charge) : `status` et `encoder` seulement ; 503 quand le processus est en "
        "retard sur le journal des changements (`lagging`). Avec une clé admin dans l'en-tête `X-API-Key` : "
        "aussi la dimension des vecteurs, par index le nombre de vecteurs, celui du stockage et leur "
        "concordance, la position dans le journal et la dernière sauvegarde. Une clé invalide n'est pas une "
        "erreur ici : la réponse est celle sans clé."
    ),
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "En retard sur le journal des changements : à sortir de la répartition"}},
)
def health(request: Request, rec: Rec, response: Response) -> dict:
    details = rec.health()  # reads the store: a broken database fails the check
    if details["status"] == "lagging":  # a load balancer takes this process out until it catches up
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    try:
        require_admin(request)
    except (access.Unauthenticated, access.Forbidden):
        return {"status": details["status"], "encoder": details["encoder"]}
    return details


# -- territories -----------------------------------------------------------------------------
@router.put(
    "/territories/{territory_id}",
    tags=["territoires"],
    summary="Créer ou mettre à jour un territoire",
    response_model=Territory,
    responses=ERR,
)
def put_territory(territory_id: TerritoryId, body: Territory, rec: Rec, who: Annotated[Principal, allow(A)]) -> Territory:
    _same_id(territory_id, body.id)
    rec.upsert_territory(body)
    return body


@router.get(
    "/territories/{territory_id}", tags=["territoires"], summary="Lire un territoire", response_model=Territory, responses=ERR
)
def get_territory(territory_id: TerritoryId, rec: Rec, who: Anyone) -> Territory:
    return rec.get_territory(territory_id)


# -- members -------------------------------------------------------------------------------------
@router.put(
    "/territories/{territory_id}/members/{member_id}",
    tags=["membres"],
    summary="Créer ou mettre à jour un membre",
    response_model=Member,
    responses=ERR,
)
def put_member(
    territory_id: TerritoryId, member_id: EntityId, body: Member, rec: Rec, who: Annotated[Principal, allow(A, G, M)]
) -> Member:
    _same_id(member_id, body.id)
    access.check_self(who, M, member_id)
    rec.upsert_members(territory_id, [body])
    return body


@router.get(
    "/territories/{territory_id}/members/{member_id}",
    tags=["membres"],
    summary="Lire un membre",
    response_model=Member,
    responses=ERR,
)
def get_member(
    territory_id: TerritoryId, member_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, H, N, M)]
) -> Member:
    return access.read_member(who, rec, territory_id, member_id)


@router.get(
    "/territories/{territory_id}/members/{member_id}/export",
    tags=["membres"],
    summary="Exporter tout ce qui est enregistré sur un membre (profil et événements)",
    response_model=MemberExport,
    responses=ERR,
)
def export_member(territory_id: TerritoryId, member_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, M)]) -> dict:
    access.check_self(who, M, member_id)
    return rec.export_member(territory_id, member_id)


@router.delete(
    "/territories/{territory_id}/members/{member_id}",
    tags=["membres"],
    summary="Supprimer un membre (et son vecteur)",
    status_code=204,
    responses=ERR,
)
def delete_member(
    territory_id: TerritoryId, member_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, M)]
) -> Response:
    access.check_self(who, M, member_id)
    rec.delete_member(territory_id, member_id)
    return Response(status_code=204)


# -- projects -------------------------------------------------------------------------------------
SIMILAR_HEADER = "X-Similar-Projects"


@router.put(
    "/territories/{territory_id}/projects/{project_id}",
    tags=["projets"],
    summary="Créer ou mettre à jour un projet et ses appels à compétences",
    description=(
        f"L'en-tête `{SIMILAR_HEADER}` de la réponse liste les projets existants du territoire qui ressemblent "
        "à celui-ci (leurs identifiants ; le détail et les raisons : `GET …/projects/{project_id}/similar`)."
    ),
    response_model=Project,
    responses=ERR,
)
def put_project(
    territory_id: TerritoryId,
    project_id: EntityId,
    body: Project,
    rec: Rec,
    who: Annotated[Principal, allow(A, G, H)],
    response: Response,
) -> Project:
    _same_id(project_id, body.id)
    access.check_project_write(who, rec, territory_id, project_id, body.holder)
    rec.upsert_projects(territory_id, [body])
    response.headers[SIMILAR_HEADER] = ",".join(s.id for s in similar.similar_to_project(rec, territory_id, project_id))
    return body


@router.get(
    "/territories/{territory_id}/projects/{project_id}",
    tags=["projets"],
    summary="Lire un projet",
    response_model=Project,
    responses=ERR,
)
def get_project(territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Anyone) -> Project:
    """Its ``holder`` only for staff, analysts, the holder, and whoever agreed with the holder on a suggestion."""
    return access.read_project(who, rec, territory_id, project_id)[0]


@router.delete(
    "/territories/{territory_id}/projects/{project_id}",
    tags=["projets"],
    summary="Supprimer un projet et ses besoins",
    status_code=204,
    responses=ERR,
)
def delete_project(
    territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, H)]
) -> Response:
    access.check_project(who, rec, territory_id, project_id)
    rec.delete_project(territory_id, project_id)
    return Response(status_code=204)


# -- partners -------------------------------------------------------------------------------------
@router.put(
    "/territories/{territory_id}/partners/{partner_id}",
    tags=["partenaires"],
    summary="Créer ou mettre à jour un partenaire et ses offres",
    response_model=Partner,
    responses=ERR,
)
def put_partner(
    territory_id: TerritoryId, partner_id: EntityId, body: Partner, rec: Rec, who: Annotated[Principal, allow(A, G, P)]
) -> Partner:
    _same_id(partner_id, body.id)
    access.check_self(who, P, partner_id)
    rec.upsert_partners(territory_id, [body])
    return body


@router.get(
    "/territories/{territory_id}/partners/{partner_id}",
    tags=["partenaires"],
    summary="Lire un partenaire",
    response_model=Partner,
    responses=ERR,
)
def get_partner(territory_id: TerritoryId, partner_id: EntityId, rec: Rec, who: Anyone) -> Partner:
    return rec.get_partner(territory_id, partner_id)


@router.delete(
    "/territories/{territory_id}/partners/{partner_id}",
    tags=["partenaires"],
    summary="Supprimer un partenaire et ses offres",
    status_code=204,
    responses=ERR,
)
def delete_partner(territory_id: TerritoryId, partner_id: EntityId, rec: Rec, who: Staff) -> Response:
    rec.delete_partner(territory_id, partner_id)
    return Response(status_code=204)


# -- the four questions ------------------------------------------------------------------------------
@router.get(
    "/territories/{territory_id}/needs/{need_id}/members",
    tags=["questions"],
    summary="Qui pourrait répondre à cet appel à compétences ?",
    response_model=MatchList,
    responses=ERR,
)
def member_for_need(
    territory_id: TerritoryId,
    need_id: EntityId,
    rec: Rec,
    who: Annotated[Principal, allow(A, G, H, N)],
    k: K = 10,
    diversity: Annotated[float | None, Query(ge=0, lt=1, description="Diversité de la liste (0 = aucune)")] = None,
    fair: Annotated[bool, Query(description="Appliquer les plafonds de sollicitation")] = True,
) -> MatchList:
    access.check_need(who, rec, territory_id, need_id)
    matches = rec.member_for_need(territory_id, need_id, k, fair=fair, diversity=diversity)
    access.served(who, rec, territory_id, "member_for_need", need_id, matches)
    return MatchList(question="member_for_need", subject_id=need_id, matches=matches)


@router.get(
    "/territories/{territory_id}/projects/{project_id}/offerings",
    tags=["questions"],
    summary="Quelles offres de partenaires pour ce projet, à son étape et à la suivante ?",
    response_model=MatchList,
    responses=ERR,
)
def offering_for_project(
    territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, H, N)], k: K = 10
) -> MatchList:
    access.check_project(who, rec, territory_id, project_id)
    matches = rec.offering_for_project(territory_id, project_id, k)
    access.served(who, rec, territory_id, "offering_for_project", project_id, matches)
    return MatchList(question="offering_for_project", subject_id=project_id, matches=matches)


@router.get(
    "/territories/{territory_id}/projects/{project_id}/routing",
    tags=["questions"],
    summary="Orientation : la meilleure offre pour l'étape actuelle du projet et pour la suivante",
    response_model=Routing,
    responses=ERR,
)
def route_project(
    territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, H, N)]
) -> Routing:
    access.check_project(who, rec, territory_id, project_id)
    routing = rec.route_project(territory_id, project_id)
    shown = [m for m in (routing["current"], routing["next"]) if m is not None]
    access.served(who, rec, territory_id, "offering_for_project", project_id, shown)
    return Routing(project_id=project_id, **routing)


@router.get(
    "/territories/{territory_id}/partners/{partner_id}/projects",
    tags=["questions"],
    summary="Quels projets ce partenaire devrait-il regarder ?",
    response_model=MatchList,
    responses=ERR,
)
def project_for_partner(
    territory_id: TerritoryId, partner_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, P, N)], k: K = 10
) -> MatchList:
    access.check_self(who, P, partner_id)
    matches = rec.project_for_partner(territory_id, partner_id, k)
    access.served(who, rec, territory_id, "project_for_partner", partner_id, matches)
    return MatchList(question="project_for_partner", subject_id=partner_id, matches=matches)


@router.get(
    "/territories/{territory_id}/members/{member_id}/needs",
    tags=["questions"],
    summary="Quels appels à compétences ouverts pour ce membre ?",
    response_model=MatchList,
    responses=ERR,
)
def need_for_member(
    territory_id: TerritoryId, member_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, M, N)], k: K = 10
) -> MatchList:
    access.check_self(who, M, member_id)
    matches = rec.need_for_member(territory_id, member_id, k)
    access.served(who, rec, territory_id, "need_for_member", member_id, matches)
    return MatchList(question="need_for_member", subject_id=member_id, matches=matches)


@router.post(
    "/territories/{territory_id}/search",
    tags=["questions"],
    summary="Essayer une description en texte libre",
    response_model=MatchList,
    responses=ERR,
)
def search(territory_id: TerritoryId, body: SearchRequest, rec: Rec, who: Anyone) -> MatchList:
    access.check_search(who, rec, territory_id, body.target)
    matches = rec.search_text(territory_id, body.text, body.target, stage=body.stage, k=body.k)
    return MatchList(question=f"search:{body.target}", subject_id="texte libre", matches=matches)


@router.post(
    "/territories/{territory_id}/rome/suggestions",
    tags=["compétences ROME"],
    summary="Suggérer des codes ROME 4.0 pour un texte (à confirmer par la personne)",
    description=(
        "Les macro-compétences ROME 4.0 (France Travail) dont le libellé est le plus proche du texte, avec "
        "l'encodeur du service. Une suggestion n'est rien de plus : la personne confirme les codes, qui sont "
        "enregistrés dans `rome_skills` de l'appel à compétences (PUT du projet) ou du membre (PUT du membre)."
    ),
    response_model=RomeSuggestions,
    responses=ERR,
)
def rome_suggestions(
    territory_id: TerritoryId, body: RomeRequest, rec: Rec, who: Annotated[Principal, allow(A, G, H, M)]
) -> RomeSuggestions:
    return RomeSuggestions(suggestions=[s.__dict__ for s in rome.suggest(rec.encoder, body.text, k=body.k)])


# -- API Engagement -------------------------------------------------------------------------------------
@router.get(
    "/territories/{territory_id}/feeds/missions.xml",
    tags=["API Engagement"],
    summary="Flux XML des missions (appels à compétences ouverts) pour API Engagement",
    description=(
        "Les appels à compétences ouverts du territoire, un par mission, au format du flux XML qu'importe "
        "API Engagement (`<source><publisher/><publisherurl/><lastBuildDate/><mission>…</mission>*</source>`). "
        "Le porteur n'y figure jamais ; l'adresse est celle de la commune du projet."
    ),
    response_class=Response,
    responses=ERR | {200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "Le flux"}},
)
def missions_xml(territory_id: TerritoryId, request: Request, rec: Rec, who: Anyone) -> Response:
    body = engagement.feed_xml(rec, territory_id, base_url=str(request.base_url))
    return Response(content=body, media_type="application/xml")


@router.get(
    "/territories/{territory_id}/feeds/missions.json",
    tags=["API Engagement"],
    summary="Les mêmes missions, en corps JSON de POST /v2/mission d'API Engagement",
    response_model=list[dict[str, Any]],
    responses=ERR,
)
def missions_json(territory_id: TerritoryId, request: Request, rec: Rec, who: Anyone) -> list[dict[str, Any]]:
    return engagement.missions(rec, territory_id, base_url=str(request.base_url))


# -- feedback and digest -------------------------------------------------------------------------------
@router.post(
    "/territories/{territory_id}/events",
    tags=["retours"],
    summary="Enregistrer des événements sur des suggestions (contacté, accepté, refusé, intéressé…)",
    description=(
        "Chaque événement est enregistré du côté de la suggestion que la clé représente, jamais lu dans le corps : "
        "le demandeur (`subject` : qui a demandé ; les agents et administrateurs agissent pour lui) ou la personne "
        "suggérée (`candidate` : ses réponses `interested`, `not_interested`, `accepted`, `declined`). Une clé qui "
        "n'est pas celle d'un agent ne rapporte `contacted` que sur une suggestion que le service lui a servie, et "
        "jamais `shown` (le service l'enregistre). Date : ni après maintenant (plus quelques minutes), ni avant le "
        "premier événement de la suggestion. Le tableau complet est dans docs/operations.md."
    ),
    response_model=EventReceipt,
    responses=ERR | R409,
)
def post_events(territory_id: TerritoryId, body: EventBatch, rec: Rec, who: Annotated[Principal, allow(A, G, H, P, M)]) -> dict:
    reports = [access.event_report(who, rec, territory_id, ev) for ev in body.events]
    return rec.record_events(territory_id, reports)


@router.get(
    "/territories/{territory_id}/events",
    tags=["retours"],
    summary="Lire les événements, filtrés par question, sujet ou candidat",
    response_model=list[RecordedEvent],
    responses=ERR,
)
def get_events(
    territory_id: TerritoryId,
    rec: Rec,
    who: Annotated[Principal, allow(A, G, N)],
    question: QuestionName | None = None,
    subject_id: Annotated[str | None, Query(max_length=128)] = None,
    candidate_id: Annotated[str | None, Query(max_length=128)] = None,
    side: Annotated[Side | None, Query(description="Côté : subject, candidate ou service")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RecordedEvent]:
    return rec.list_events(
        territory_id, question=question, subject_id=subject_id, candidate_id=candidate_id, side=side, limit=limit
    )


@router.post(
    "/territories/{territory_id}/answer-links",
    tags=["retours"],
    summary="Créer un lien de réponse à usage unique pour la personne suggérée (à envoyer dans un message)",
    description=(
        "Le lien `/ui/answer/{jeton}` permet à la personne suggérée (un membre pour un appel à compétences) "
        "de répondre sans clé : il ouvre une page de confirmation, puis enregistre sa réponse de son côté. "
        "Signé, valable `MAILLAGE_ANSWER_LINK_DAYS` jours, il ne sert qu'une fois."
    ),
    response_model=AnswerLink,
    responses=ERR,
)
def answer_link(territory_id: TerritoryId, body: AnswerLinkRequest, rec: Rec, who: Staff) -> dict:
    token, link = links.make_link(rec, territory_id, body.question, body.subject_id, body.candidate_id)
    return {"path": f"/ui/answer/{token}", "expires_at": link.expires_at}


@router.get(
    "/territories/{territory_id}/partners/{partner_id}/digest",
    tags=["questions"],
    summary="Le point de la semaine d'un partenaire : projets à regarder, jamais montrés, dans sa capacité",
    response_model=Digest,
    responses=ERR,
)
def partner_digest(
    territory_id: TerritoryId, partner_id: EntityId, rec: Rec, who: Annotated[Principal, allow(A, G, P, N)], k: K = 10
) -> dict:
    access.check_self(who, P, partner_id)
    digest = rec.partner_digest(territory_id, partner_id, k)
    access.served(who, rec, territory_id, "project_for_partner", partner_id, digest["projects"])
    return digest
