"""API keys as stored: only the SHA-256 of each key (``matching.access`` makes and checks them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from matching.errors import NotFound
from matching.store.core import Tx
from matching.store.schema import ApiKeyRow


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    territory_id: str
    role: str
    subject: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _of(row: ApiKeyRow) -> StoredKey:
    return StoredKey(row.key_id, row.territory_id, row.role, row.subject, row.label, row.created_at, row.revoked_at)


def add_key(
    tx: Tx,
    *,
    key_id: str,
    secret_hash: str,
    territory_id: str,
    role: str,
    subject: str | None,
    label: str,
    created_at: dt.datetime,
) -> StoredKey:
    row = ApiKeyRow(
        key_id=key_id,
        secret_hash=secret_hash,
        territory_id=territory_id,
        role=role,
        subject=subject,
        label=label,
        created_at=created_at,
    )
    tx.session.add(row)
    tx.session.flush()
    return _of(row)


def key_by_hash(tx: Tx, *, secret_hash: str) -> StoredKey | None:
    row = tx.session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_hash == secret_hash))
    return _of(row) if row is not None else None


def list_keys(tx: Tx, *, territory_id: str | None = None) -> list[StoredKey]:
    stmt = select(ApiKeyRow).order_by(ApiKeyRow.territory_id, ApiKeyRow.created_at, ApiKeyRow.pk)
    if territory_id:
        stmt = stmt.where(ApiKeyRow.territory_id == territory_id)
    return [_of(r) for r in tx.session.scalars(stmt)]


def revoke_key(tx: Tx, *, key_id: str, at: dt.datetime) -> StoredKey:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time)."""
    row = tx.session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
    if row is None:
        raise NotFound("clé", key_id)
    if row.revoked_at is None:
        row.revoked_at = at
    return _of(row)
