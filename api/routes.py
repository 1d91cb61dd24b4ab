"""Routes: each one validates, calls the recommender, returns. No SQL, no FAISS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import Anyone, EntityId, K, Rec, Staff, TerritoryId, allow
from api.schemas import Digest, EventBatch, EventReceipt, Health, MatchList, MemberExport, Problem, Routing, SearchRequest
from matching import access
from matching.access import Principal, Role
from matching.domain import FeedbackEvent, Member, Partner, Project, QuestionName, Territory
from matching.errors import InvalidRequest

AUTH = {
    401: {"model": Problem, "description": "Clé d'API manquante, invalide ou révoquée"},
    403: {"model": Problem, "description": "Le rôle de la clé ne permet pas cette opération"},
}
router = APIRouter(responses=AUTH)  # every route of this router requires a key
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
    summary="État du service et des index",
    response_model=Health,
    responses={503: {"model": Health, "description": "En retard sur le journal des changements : à sortir de la répartition"}},
)
def health(rec: Rec, response: Response) -> dict:
    state = rec.health()
    if state["status"] == "lagging":  # a load balancer takes this process out until it catches up
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return state


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
    access.check_self(who, M, member_id)
    return access.visible_member(who, rec, territory_id, rec.get_member(territory_id, member_id))


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
@router.put(
    "/territories/{territory_id}/projects/{project_id}",
    tags=["projets"],
    summary="Créer ou mettre à jour un projet et ses appels à compétences",
    response_model=Project,
    responses=ERR,
)
def put_project(
    territory_id: TerritoryId, project_id: EntityId, body: Project, rec: Rec, who: Annotated[Principal, allow(A, G, H)]
) -> Project:
    _same_id(project_id, body.id)
    access.check_project_write(who, rec, territory_id, project_id, body.holder)
    rec.upsert_projects(territory_id, [body])
    return body


@router.get(
    "/territories/{territory_id}/projects/{project_id}",
    tags=["projets"],
    summary="Lire un projet",
    response_model=Project,
    responses=ERR,
)
def get_project(territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Anyone) -> Project:
    return access.check_project(who, rec, territory_id, project_id)


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
    return MatchList(
        question="offering_for_project", subject_id=project_id, matches=rec.offering_for_project(territory_id, project_id, k)
    )


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
    return Routing(project_id=project_id, **rec.route_project(territory_id, project_id))


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
    return MatchList(
        question="project_for_partner", subject_id=partner_id, matches=rec.project_for_partner(territory_id, partner_id, k)
    )


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
    return MatchList(question="need_for_member", subject_id=member_id, matches=rec.need_for_member(territory_id, member_id, k))


@router.post(
    "/territories/{territory_id}/search",
    tags=["questions"],
    summary="Essayer une description en texte libre",
    response_model=MatchList,
    responses=ERR,
)
def search(territory_id: TerritoryId, body: SearchRequest, rec: Rec, who: Anyone) -> MatchList:
    access.check_search(who, body.target)
    matches = rec.search_text(territory_id, body.text, body.target, stage=body.stage, k=body.k)
    return MatchList(question=f"search:{body.target}", subject_id="texte libre", matches=matches)


# -- feedback and digest -------------------------------------------------------------------------------
@router.post(
    "/territories/{territory_id}/events",
    tags=["retours"],
    summary="Enregistrer des événements sur des suggestions (proposé, contacté, accepté, refusé…)",
    response_model=EventReceipt,
    responses=ERR | R409,
)
def post_events(territory_id: TerritoryId, body: EventBatch, rec: Rec, who: Annotated[Principal, allow(A, G, H, P, M)]) -> dict:
    for ev in body.events:
        access.check_event(who, rec, territory_id, ev)
    return rec.record_events(territory_id, body.events)


@router.get(
    "/territories/{territory_id}/events",
    tags=["retours"],
    summary="Lire les événements, filtrés par question, sujet ou candidat",
    response_model=list[FeedbackEvent],
    responses=ERR,
)
def get_events(
    territory_id: TerritoryId,
    rec: Rec,
    who: Annotated[Principal, allow(A, G, N)],
    question: QuestionName | None = None,
    subject_id: Annotated[str | None, Query(max_length=128)] = None,
    candidate_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FeedbackEvent]:
    return rec.list_events(territory_id, question=question, subject_id=subject_id, candidate_id=candidate_id, limit=limit)


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
    return rec.partner_digest(territory_id, partner_id, k)
