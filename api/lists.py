"""The list endpoints: projects, calls for skills, partners and members of a territory, filtered and
paged (``matching.listing``). Each route checks the key, calls ``listing``, returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Anyone, Rec, TerritoryId, allow
from api.routes import AUTH, ERR, R413
from api.schemas import MemberPage, NeedPage, PartnerPage, ProjectPage
from matching import access, listing
from matching.access import Principal
from matching.domain import Stage

router = APIRouter(responses=AUTH | R413, tags=["listes"])


@dataclass
class ListQuery:
    """The filters and the page every list takes."""

    stage: Annotated[Stage | None, Query(description="Étape (du projet)")] = None
    commune: Annotated[str | None, Query(max_length=200, description="Commune (sans égard aux accents)")] = None
    cause: Annotated[str | None, Query(max_length=100, description="Cause")] = None
    q: Annotated[str | None, Query(max_length=200, description="Mots cherchés dans les textes (tous)")] = None
    page: Annotated[int, Query(ge=1, le=100_000, description="Page, à partir de 1")] = 1
    per_page: Annotated[int, Query(ge=1, le=listing.MAX_PER_PAGE, description="Résultats par page")] = listing.PER_PAGE

    def filters(self) -> listing.Filters:
        return listing.Filters(stage=self.stage, commune=self.commune, cause=self.cause, q=self.q)


Filters = Annotated[ListQuery, Depends()]


@router.get(
    "/territories/{territory_id}/projects",
    summary="Lister les projets (filtres : étape, commune, cause, texte ; par pages)",
    response_model=ProjectPage,
    responses=ERR,
)
def list_projects(territory_id: TerritoryId, rec: Rec, who: Anyone, f: Filters) -> dict:
    shows = lambda holder: access.sees_holder(who, holder)  # noqa: E731
    return listing.projects(rec, territory_id, f.filters(), page=f.page, per_page=f.per_page, show_holder=shows).as_dict()


@router.get(
    "/territories/{territory_id}/needs",
    summary="Lister les appels à compétences (ouverts par défaut ; filtres du projet : étape, commune, cause ; texte)",
    response_model=NeedPage,
    responses=ERR,
)
def list_needs(
    territory_id: TerritoryId,
    rec: Rec,
    who: Anyone,
    f: Filters,
    status: Annotated[Literal["open", "closed", "all"], Query(description="open (défaut), closed ou all")] = "open",
) -> dict:
    return listing.needs(rec, territory_id, f.filters(), status=status, page=f.page, per_page=f.per_page).as_dict()


@router.get(
    "/territories/{territory_id}/partners",
    summary="Lister les partenaires (étape servie, commune et cause acceptées, texte)",
    response_model=PartnerPage,
    responses=ERR,
)
def list_partners(territory_id: TerritoryId, rec: Rec, who: Anyone, f: Filters) -> dict:
    return listing.partners(rec, territory_id, f.filters(), page=f.page, per_page=f.per_page).as_dict()


@router.get(
    "/territories/{territory_id}/members",
    summary="Lister les membres (agents, analystes, porteurs d'un projet ; sans coordonnées)",
    response_model=MemberPage,
    responses=ERR,
)
def list_members(
    territory_id: TerritoryId, rec: Rec, who: Annotated[Principal, allow(*access.MEMBER_LISTERS)], f: Filters
) -> dict:
    access.check_list_members(who, rec, territory_id)
    found = listing.members(
        rec, territory_id, listing.Filters(commune=f.commune, cause=f.cause, q=f.q), page=f.page, per_page=f.per_page
    )
    return found.as_dict()
