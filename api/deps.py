"""Dependency aliases shared by the routes, and the key check each route declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader

from matching import access
from matching.access import Principal, Role
from matching.domain import ID_PATTERN
from matching.recommender import Recommender


def get_recommender(request: Request) -> Recommender:
    return request.app.state.recommender


Rec = Annotated[Recommender, Depends(get_recommender)]
TerritoryId = Annotated[str, Path(pattern=ID_PATTERN, description="Identifiant du territoire")]
EntityId = Annotated[str, Path(pattern=ID_PATTERN, description="Identifiant externe")]
K = Annotated[int, Query(ge=1, le=50, description="Nombre de résultats (1 à 50)")]

api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Clé d'API (maillage keys create) : liée à un territoire et à un rôle",
)
# the web pages keep the same key in a cookie (set by their login form; see api/web.py)
KEY_COOKIE = "maillage_key"


def principal(request: Request, key: str | None, territory_id: str, roles: tuple[Role, ...]) -> Principal:
    """Authenticate (401), then the territory (404 for another one), then the role (403)."""
    rec: Recommender = request.app.state.recommender
    # the JSON API takes the header only: the web pages' cookie never authorises it (no CSRF surface)
    who = access.authenticate(rec.store, key)
    access.check_territory(who, territory_id)
    access.check_role(who, roles)
    return who


def presented_key(request: Request) -> str | None:
    """The key of a request: ``X-API-Key``, else ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def require_admin(request: Request, what: str = "réservé aux clés admin") -> Principal:
    """An admin key of any territory (401 without a valid key, 403 for another role): ``/metrics``,
    the details of ``/health``."""
    who = access.authenticate(request.app.state.recommender.store, presented_key(request))
    access.check_role(who, (Role.ADMIN,), what)
    return who


def allow(*roles: Role):
    """The roles that may call a route (declared on the route's signature)."""

    def dependency(request: Request, territory_id: TerritoryId, key: Annotated[str | None, Security(api_key)]) -> Principal:
        return principal(request, key, territory_id, roles)

    dependency.__doc__ = "Rôles autorisés : " + ", ".join(r.value for r in roles)
    return Depends(dependency)


Anyone = Annotated[Principal, allow(*access.ALL_ROLES)]
Staff = Annotated[Principal, allow(*access.STAFF)]
