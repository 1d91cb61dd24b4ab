"""Personal data: a member's export, anonymisation, and the retention rule.

Example:
    >>> export_member(rec, "sceaux-valley", "m00002")["member"].id  # doctest: +SKIP
    'm00002'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from embeddings.cache import text_hash
from matching.domain import Member
from matching.errors import InvalidRequest
from matching.store import events

ANONYMOUS = "Membre anonymisé"


def export_member(rec: Any, territory_id: str, member_id: str) -> dict[str, Any]:
    """Everything stored about a member: the profile and every event that names them."""
    with rec.store.read() as tx:
        member = tx.get_member(territory_id, member_id)
        found = events.member_events(tx, territory_pk=tx.territory_pk(territory_id), member_id=member_id)
    return {
        "territory_id": territory_id,
        "member": member,
        "events": found,
        "exported_at": rec.clock.now().isoformat(timespec="seconds"),
    }


def anonymise_member(rec: Any, territory_id: str, member_id: str) -> None:
    """Replace a member's personal fields by neutral values (events keep the bare id).

    The member is no longer suggested (no consent, no text), their vector leaves the indexes
    and the vector cache.
    """
    member = rec.get_member(territory_id, member_id)
    blank = Member(id=member.id, display_name=ANONYMOUS, bio="(profil anonymisé)", consent=False, max_engagements=0)

    def replace(tx: Any) -> None:
        tx.changes.forgotten.add(text_hash(member.text()))
        tx.upsert_member(territory_id, blank)

    rec.write({"member": [blank.text()]}, replace)


def apply_retention(rec: Any, territory_id: str, inactive_days: int, *, dry_run: bool = False) -> list[str]:
    """Anonymise the members inactive for ``inactive_days`` (no profile update, no event).

    Already anonymised members are left alone. Returns the ids concerned.
    """
    if inactive_days < 1:
        raise InvalidRequest("la durée d'inactivité doit être d'au moins un jour")
    before = rec.clock.now() - dt.timedelta(days=inactive_days)
    with rec.store.read() as tx:
        inactive = events.inactive_members(tx, territory_pk=tx.territory_pk(territory_id), before=before)
        ids = [m for m in inactive if tx.get_member(territory_id, m).display_name != ANONYMOUS]
    if not dry_run:
        for member_id in ids:
            anonymise_member(rec, territory_id, member_id)
    return ids
