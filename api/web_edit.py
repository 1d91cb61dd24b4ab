"""Publishing and editing from the pages: projects and their calls for skills, partners and their
offerings, members (their own profile and preferences; agents manage them all).

Each form is a GET that shows it and a POST that checks the form's origin and token (as every
form of ``api/web.py``), reads the fields (``api/forms.py``), validates the **whole entity** with
the domain model, and only then writes it through the facade (``Recommender.upsert_*``: the read
models and the indexes follow, the change log carries it to the other processes). A refused
field is shown again next to its input, in French, with a 422; nothing is written.

Who may do what is ``matching.access`` (the same rules as the API's ``PUT``): staff everything;
a holder their projects (a new one names them as holder); a partner itself and its offerings; a
member their own profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import forms
from api.web import CsrfRefused, EntityId, Rec, Viewer, WebRoute, _redirect, _same_origin, check_form, render
from matching import access, listing, notify, rome
from matching.access import Principal, Role
from matching.domain import Member, Need, Offering, Partner, Project
from matching.errors import InvalidRequest, NotFound

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
A, G, H, P, N, M = Role.ADMIN, Role.AGENT, Role.HOLDER, Role.PARTNER, Role.ANALYST, Role.MEMBER
TITLES = {
    "project": ("Nouveau projet", "Modifier le projet"),
    "need": ("Nouvel appel à compétences", "Modifier l'appel à compétences"),
    "partner": ("Nouveau partenaire", "Modifier le partenaire"),
    "offering": ("Nouvelle offre", "Modifier l'offre"),
    "member": ("Nouveau membre", "Mon profil et mes préférences"),
}


def install(app: FastAPI) -> None:
    """Before ``api.web``'s pages: ``/ui/projects/new`` is this form, not a project called "new"."""
    app.include_router(router)


async def posted(request: Request) -> dict[str, list[str]]:
    """The posted form, every value of every field (check boxes send several)."""
    out: dict[str, list[str]] = {}
    for k, v in (await request.form()).multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v)
    return out


Posted = Annotated[dict[str, list[str]], Depends(posted)]


def _csrf(request: Request, data: dict[str, list[str]]) -> None:
    check_form(request, (data.get("csrf") or [""])[0])


class Form:
    """One form on one page: its fields, where it posts, where it leads back."""

    def suggest_rome(self, rec: Any, text: str, chosen: list[str]) -> Form:
        """The ROME 4.0 codes to tick: those chosen, then the labels nearest to ``text``
        (``matching.rome.suggest``); a person confirms them, nothing is ticked for them."""
        suggested = [s.code for s in rome.suggest(rec.encoder, text, k=5)] if text.strip() else []
        codes = list(dict.fromkeys([*chosen, *suggested]))
        options = tuple((c, f"{c} — {rome.label(c) or 'code inconnu'}") for c in codes)
        self.fields = [
            dataclasses.replace(f, options=options) if f.options == () and f.name == "rome_skills" else f for f in self.fields
        ]
        return self

    def __init__(self, name: str, who: Principal, *, new: bool, action: str, back: str, title: str | None = None) -> None:
        self.name = name
        self.fields = forms.form_fields(name, new=new, staff=who.staff)
        self.action = action
        self.back = back
        self.title = title or TITLES[name][0 if new else 1]

    def page(
        self, request: Request, who: Principal, values: dict[str, Any], errors: dict[str, str] | None = None, **extra: Any
    ) -> HTMLResponse:
        errors = errors or {}
        names = {f.name for f in self.fields}
        return render(
            request,
            "form.html",
            who,
            status=422 if errors else 200,
            form=self,
            values=values,
            errors=errors,
            general=[f"{k} : {v}" if k != "formulaire" else v for k, v in errors.items() if k not in names],
            **extra,
        )

    def save(
        self,
        request: Request,
        who: Principal,
        data: dict[str, list[str]],
        build: Callable[[dict[str, Any]], Any],
        write: Callable[[Any], str],
    ) -> Response:
        """Read, validate with ``build`` (a domain model), then ``write`` (returns where to go next)."""
        _csrf(request, data)
        doc, errors = forms.read(self.fields, data)
        if not errors:
            try:
                entity = build(doc)
            except ValidationError as exc:
                errors = forms.field_errors(exc)
            except forms.FieldRefused as exc:
                errors = {exc.field: exc.message}
            else:
                return _redirect(write(entity), flash=("ok", "Enregistré."))
        return self.page(request, who, forms.posted_values(self.fields, data), errors)


# -- projects ------------------------------------------------------------------------------------------


def _project_form(who: Principal, project: Project | None) -> Form:
    if project is None:
        return Form("project", who, new=True, action="/ui/projects/new", back="/ui/")
    url = f"/ui/projects/{project.id}"
    return Form("project", who, new=False, action=url + "/edit", back=url)


@router.get("/projects/new")
def project_new(request: Request, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_role(who, access.PROJECT_EDITORS, "seuls les agents et les porteurs créent des projets")
    return _project_form(who, None).page(request, who, {"stage": "idee"})


@router.post("/projects/new")
def project_create(request: Request, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_role(who, access.PROJECT_EDITORS, "seuls les agents et les porteurs créent des projets")
    t = who.territory_id

    def build(doc: dict[str, Any]) -> Project:
        taken = listing.taken_ids(rec, t, "project")
        if doc.get("id") and doc["id"] in taken:
            raise forms.FieldRefused("id", f"le projet {doc['id']!r} existe déjà")
        ident = doc.pop("id", None) or forms.new_id(doc.get("title") or "projet", taken)
        holder = doc.get("holder") if who.staff else who.subject
        project = Project.model_validate({**doc, "id": ident, "holder": holder})
        access.check_project_write(who, rec, t, project.id, project.holder)
        return project

    def write(project: Project) -> str:
        rec.upsert_projects(t, [project])
        return f"/ui/projects/{project.id}"

    return _project_form(who, None).save(request, who, data, build, write)


@router.get("/projects/{project_id}/edit")
def project_edit(request: Request, project_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    project = access.check_project_edit(who, rec, who.territory_id, project_id)
    form = _project_form(who, project)
    return form.page(request, who, forms.values_of(form.fields, project.model_dump(mode="json")))


@router.post("/projects/{project_id}/edit")
def project_update(request: Request, project_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    t = who.territory_id
    project = access.check_project_edit(who, rec, t, project_id)

    def build(doc: dict[str, Any]) -> Project:
        return Project.model_validate(forms.merge(project.model_dump(mode="json"), doc))

    def write(updated: Project) -> str:
        access.check_project_write(who, rec, t, updated.id, updated.holder)
        rec.upsert_projects(t, [updated])
        return f"/ui/projects/{project_id}"

    return _project_form(who, project).save(request, who, data, build, write)


@router.post("/projects/{project_id}/advance")
def project_advance(request: Request, project_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    _csrf(request, data)
    t = who.territory_id
    project = access.check_project_edit(who, rec, t, project_id)
    back = f"/ui/projects/{project_id}"
    nxt = project.stage.next()
    if nxt is None:
        return _redirect(back, flash=("error", "Le projet est déjà à la dernière étape (croissance)."))
    rec.upsert_projects(t, [project.model_copy(update={"stage": nxt})])
    return _redirect(back, flash=("ok", f"Le projet passe à l'étape « {nxt.label} »."))


# -- calls for skills ------------------------------------------------------------------------------------


def _need_form(who: Principal, project: Project, need: Need | None, rec: Any) -> Form:
    url = f"/ui/projects/{project.id}"
    action = f"{url}/needs/new" if need is None else f"{url}/needs/{need.id}/edit"
    form = Form("need", who, new=need is None, action=action, back=url, title=None)
    return form.suggest_rome(rec, need.full_text() if need else "", need.rome_skills if need else [])


def _with_need(project: Project, need: Need) -> Project:
    needs = [need if n.id == need.id else n for n in project.needs]
    if need.id not in {n.id for n in project.needs}:
        needs.append(need)
    return Project.model_validate({**project.model_dump(mode="json"), "needs": [n.model_dump(mode="json") for n in needs]})


def _need_of(project: Project, need_id: str) -> Need:
    found = next((n for n in project.needs if n.id == need_id), None)
    if found is None:
        raise NotFound("besoin", need_id)
    return found


@router.get("/projects/{project_id}/needs/new")
def need_new(request: Request, project_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    project = access.check_project_edit(who, rec, who.territory_id, project_id)
    return _need_form(who, project, None, rec).page(request, who, {"hours_per_week": 2, "headcount": 1}, project=project)


@router.post("/projects/{project_id}/needs/new")
def need_create(request: Request, project_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    t = who.territory_id
    project = access.check_project_edit(who, rec, t, project_id)

    def build(doc: dict[str, Any]) -> Project:
        ident = forms.next_child_id(project.id, listing.taken_ids(rec, t, "need"), "n")
        return _with_need(project, Need.model_validate({**doc, "id": ident}))

    def write(updated: Project) -> str:
        rec.upsert_projects(t, [updated])
        return f"/ui/projects/{project_id}"

    return _need_form(who, project, None, rec).save(request, who, data, build, write)


@router.get("/projects/{project_id}/needs/{need_id}/edit")
def need_edit(request: Request, project_id: EntityId, need_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    project = access.check_project_edit(who, rec, who.territory_id, project_id)
    need = _need_of(project, need_id)
    form = _need_form(who, project, need, rec)
    return form.page(request, who, forms.values_of(form.fields, need.model_dump(mode="json")), project=project)


@router.post("/projects/{project_id}/needs/{need_id}/edit")
def need_update(request: Request, project_id: EntityId, need_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    t = who.territory_id
    project = access.check_project_edit(who, rec, t, project_id)
    need = _need_of(project, need_id)

    def build(doc: dict[str, Any]) -> Project:
        return _with_need(project, Need.model_validate(forms.merge(need.model_dump(mode="json"), doc)))

    def write(updated: Project) -> str:
        rec.upsert_projects(t, [updated])
        return f"/ui/projects/{project_id}"

    return _need_form(who, project, need, rec).save(request, who, data, build, write)


@router.post("/projects/{project_id}/needs/{need_id}/close")
def need_close(request: Request, project_id: EntityId, need_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    _csrf(request, data)
    t = who.territory_id
    project = access.check_project_edit(who, rec, t, project_id)
    need = _need_of(project, need_id)
    reopen = need.status == "closed"
    rec.upsert_projects(t, [_with_need(project, need.model_copy(update={"status": "open" if reopen else "closed"}))])
    text = f"L'appel « {need.title} » est {'rouvert' if reopen else 'fermé'}."
    return _redirect(f"/ui/projects/{project_id}", flash=("ok", text))


# -- partners and their offerings ---------------------------------------------------------------------------


def _partner_form(who: Principal, partner: Partner | None) -> Form:
    if partner is None:
        return Form("partner", who, new=True, action="/ui/partners/new", back="/ui/")
    url = f"/ui/partners/{partner.id}"
    return Form("partner", who, new=False, action=url + "/edit", back=url)


@router.get("/partners/new")
def partner_new(request: Request, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_role(who, access.STAFF, "seuls les agents créent des partenaires")
    return _partner_form(who, None).page(request, who, {})


@router.post("/partners/new")
def partner_create(request: Request, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_role(who, access.STAFF, "seuls les agents créent des partenaires")
    t = who.territory_id

    def build(doc: dict[str, Any]) -> Partner:
        taken = listing.taken_ids(rec, t, "partner")
        if doc.get("id") and doc["id"] in taken:
            raise forms.FieldRefused("id", f"le partenaire {doc['id']!r} existe déjà")
        return Partner.model_validate({**doc, "id": doc.pop("id", None) or forms.new_id(doc.get("name") or "partenaire", taken)})

    def write(partner: Partner) -> str:
        rec.upsert_partners(t, [partner])
        return f"/ui/partners/{partner.id}"

    return _partner_form(who, None).save(request, who, data, build, write)


@router.get("/partners/{partner_id}/edit")
def partner_edit(request: Request, partner_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_partner_edit(who, partner_id)
    partner = rec.get_partner(who.territory_id, partner_id)
    form = _partner_form(who, partner)
    return form.page(request, who, forms.values_of(form.fields, partner.model_dump(mode="json")), partner=partner)


@router.post("/partners/{partner_id}/edit")
def partner_update(request: Request, partner_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_partner_edit(who, partner_id)
    t = who.territory_id
    partner = rec.get_partner(t, partner_id)

    def write(updated: Partner) -> str:
        rec.upsert_partners(t, [updated])
        return f"/ui/partners/{partner_id}"

    build = lambda doc: Partner.model_validate(forms.merge(partner.model_dump(mode="json"), doc))  # noqa: E731
    return _partner_form(who, partner).save(request, who, data, build, write)


@router.post("/partners/{partner_id}/delete")
def partner_delete(request: Request, partner_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    _csrf(request, data)
    access.check_role(who, access.STAFF, "seuls les agents suppriment des partenaires")
    name = rec.get_partner(who.territory_id, partner_id).name
    rec.delete_partner(who.territory_id, partner_id)
    return _redirect("/ui/", flash=("ok", f"Partenaire « {name} » supprimé."))


def _offering_form(who: Principal, partner: Partner, offering: Offering | None) -> Form:
    url = f"/ui/partners/{partner.id}"
    action = f"{url}/offerings/new" if offering is None else f"{url}/offerings/{offering.id}/edit"
    return Form("offering", who, new=offering is None, action=action, back=url + "/edit")


def _with_offering(partner: Partner, offering: Offering) -> Partner:
    offerings = [offering if o.id == offering.id else o for o in partner.offerings]
    if offering.id not in {o.id for o in partner.offerings}:
        offerings.append(offering)
    return Partner.model_validate(
        {**partner.model_dump(mode="json"), "offerings": [o.model_dump(mode="json") for o in offerings]}
    )


def _offering_of(partner: Partner, offering_id: str) -> Offering:
    found = next((o for o in partner.offerings if o.id == offering_id), None)
    if found is None:
        raise NotFound("offre", offering_id)
    return found


@router.get("/partners/{partner_id}/offerings/new")
def offering_new(request: Request, partner_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_partner_edit(who, partner_id)
    partner = rec.get_partner(who.territory_id, partner_id)
    return _offering_form(who, partner, None).page(request, who, {"capacity": 10, "kind": "other"}, partner=partner)


@router.post("/partners/{partner_id}/offerings/new")
def offering_create(request: Request, partner_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_partner_edit(who, partner_id)
    t = who.territory_id
    partner = rec.get_partner(t, partner_id)

    def build(doc: dict[str, Any]) -> Partner:
        ident = forms.next_child_id(partner.id, listing.taken_ids(rec, t, "offering"), "o")
        return _with_offering(partner, Offering.model_validate({**doc, "id": ident}))

    def write(updated: Partner) -> str:
        rec.upsert_partners(t, [updated])
        return f"/ui/partners/{partner_id}/edit"

    return _offering_form(who, partner, None).save(request, who, data, build, write)


@router.get("/partners/{partner_id}/offerings/{offering_id}/edit")
def offering_edit(request: Request, partner_id: EntityId, offering_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_partner_edit(who, partner_id)
    partner = rec.get_partner(who.territory_id, partner_id)
    offering = _offering_of(partner, offering_id)
    form = _offering_form(who, partner, offering)
    return form.page(request, who, forms.values_of(form.fields, offering.model_dump(mode="json")), partner=partner)


@router.post("/partners/{partner_id}/offerings/{offering_id}/edit")
def offering_update(
    request: Request, partner_id: EntityId, offering_id: EntityId, rec: Rec, who: Viewer, data: Posted
) -> Response:
    access.check_partner_edit(who, partner_id)
    t = who.territory_id
    partner = rec.get_partner(t, partner_id)
    offering = _offering_of(partner, offering_id)

    def build(doc: dict[str, Any]) -> Partner:
        return _with_offering(partner, Offering.model_validate(forms.merge(offering.model_dump(mode="json"), doc)))

    def write(updated: Partner) -> str:
        rec.upsert_partners(t, [updated])
        return f"/ui/partners/{partner_id}/edit"

    return _offering_form(who, partner, offering).save(request, who, data, build, write)


# -- members ---------------------------------------------------------------------------------------------------


@router.get("/members")
def members_page(
    request: Request,
    rec: Rec,
    who: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    commune: Annotated[str, Query(max_length=200)] = "",
    cause: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    access.check_role(who, (A, G, N), "la liste des membres est réservée aux agents et analystes")
    found = listing.members(
        rec, who.territory_id, listing.Filters(commune=commune or None, cause=cause or None, q=q or None), page=page
    )
    return render(request, "members.html", who, found=found, q=q, commune=commune, cause=cause)


def _member_form(who: Principal, member: Member | None, rec: Any) -> Form:
    if member is None:
        return Form("member", who, new=True, action="/ui/members/new", back="/ui/members").suggest_rome(rec, "", [])
    url = f"/ui/members/{member.id}/edit"
    title = TITLES["member"][1] if who.role == M else f"Profil de {member.display_name}"
    form = Form("member", who, new=False, action=url, back="/ui/" if who.role == M else "/ui/members", title=title)
    return form.suggest_rome(rec, member.text(), member.rome_skills)


@router.get("/members/new")
def member_new(request: Request, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_role(who, access.STAFF, "seuls les agents inscrivent des membres")
    return _member_form(who, None, rec).page(request, who, {"hours_per_week": 2, "remote_ok": True, "max_engagements": 2})


@router.post("/members/new")
def member_create(request: Request, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_role(who, access.STAFF, "seuls les agents inscrivent des membres")
    t = who.territory_id

    def build(doc: dict[str, Any]) -> Member:
        taken = listing.taken_ids(rec, t, "member")
        if doc.get("id") and doc["id"] in taken:
            raise forms.FieldRefused("id", f"le membre {doc['id']!r} existe déjà")
        return Member.model_validate(
            {**doc, "id": doc.pop("id", None) or forms.new_id(doc.get("display_name") or "", taken, "m-")}
        )

    def write(member: Member) -> str:
        rec.upsert_members(t, [member])
        return "/ui/members"

    return _member_form(who, None, rec).save(request, who, data, build, write)


@router.get("/members/{member_id}/edit")
def member_edit(request: Request, member_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_member_edit(who, member_id)
    member = rec.get_member(who.territory_id, member_id)
    form = _member_form(who, member, rec)
    return form.page(request, who, forms.values_of(form.fields, member.model_dump(mode="json")), member=member)


@router.post("/members/{member_id}/edit")
def member_update(request: Request, member_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    access.check_member_edit(who, member_id)
    t = who.territory_id
    member = rec.get_member(t, member_id)

    def write(updated: Member) -> str:
        rec.upsert_members(t, [updated])
        return f"/ui/members/{member_id}/edit"

    build = lambda doc: Member.model_validate(forms.merge(member.model_dump(mode="json"), doc))  # noqa: E731
    return _member_form(who, member, rec).save(request, who, data, build, write)


@router.post("/members/{member_id}/delete")
def member_delete(request: Request, member_id: EntityId, rec: Rec, who: Viewer, data: Posted) -> Response:
    _csrf(request, data)
    access.check_role(who, access.STAFF, "seuls les agents suppriment des membres")
    name = rec.get_member(who.territory_id, member_id).display_name
    rec.delete_member(who.territory_id, member_id)
    return _redirect("/ui/members", flash=("ok", f"Membre « {name} » supprimé·e."))


# -- one-click unsubscribe from the weekly e-mail (no key: the signed link is the authority) ------------


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: Annotated[str, PathParam(max_length=1000)], rec: Rec) -> HTMLResponse:
    """A confirmation form (a mail client that prefetches links unsubscribes nobody)."""
    try:
        territory_id, member_id = notify.read_unsubscribe(rec.settings, token)
        member = rec.get_member(territory_id, member_id)
    except (InvalidRequest, NotFound) as exc:
        return render(request, "error.html", None, status=410, title="Désinscription", message=f"{exc}.")
    return render(request, "unsubscribe.html", None, token=token, person=member.display_name, done=False)


@router.post("/unsubscribe/{token}")
def unsubscribe_post(request: Request, token: Annotated[str, PathParam(max_length=1000)], rec: Rec) -> HTMLResponse:
    """The form's button, or the mail client's own (RFC 8058 ``List-Unsubscribe=One-Click``)."""
    if not _same_origin(request):
        raise CsrfRefused
    try:
        name = notify.unsubscribe(rec, token)
    except (InvalidRequest, NotFound) as exc:
        return render(request, "error.html", None, status=410, title="Désinscription", message=f"{exc}.")
    return render(request, "unsubscribe.html", None, token=token, person=name, done=True)
