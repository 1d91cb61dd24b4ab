"""What the store says when the database says "not now": one ``Unavailable`` (the API's 503 with
``Retry-After``), for the units of work of ``core`` and the vector cache's own connections alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from matching import errors


class Unavailable(errors.Unavailable):
    """The store's own flavour: ``transient`` when trying the same unit again may work."""

    def __init__(self, message: str, *, transient: bool, retry_after: int = 2) -> None:
        self.transient = transient
        super().__init__(message, retry_after=retry_after)


def _describe(exc: Exception) -> Unavailable | None:
    """The database error of a unit of work as a French ``Unavailable`` (None: not such an error)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    if isinstance(exc, IntegrityError) or not isinstance(exc, DBAPIError):
        return None
    message = str(getattr(exc, "orig", exc)).lower()
    if ("disk" in message and "full" in message) or "no space" in message:
        return Unavailable(
            "disque plein sous la base de données : rien de cette écriture n'a été enregistré", transient=False, retry_after=60
        )
    if "readonly" in message or "read-only" in message or "read only" in message:
        return Unavailable(
            "base de données en lecture seule : rien de cette écriture n'a été enregistré", transient=False, retry_after=60
        )
    if "unable to open database file" in message:
        return Unavailable(
            "fichier de la base de données impossible à ouvrir (disque en lecture seule, droits, chemin ?)",
            transient=False,
            retry_after=60,
        )
    if "locked" in message or "deadlock" in message or "could not serialize" in message:
        return Unavailable("base de données occupée par une autre écriture : réessayez", transient=True, retry_after=1)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return Unavailable("base de données injoignable (redémarrage ?) : réessayez dans un instant", transient=True)
    return None


@contextmanager
def unavailable_as_domain_error() -> Iterator[None]:
    """Database errors that say "not now" (unreachable, busy, full, read-only) become ``Unavailable``."""
    try:
        yield
    except errors.Unavailable:
        raise
    except Exception as exc:
        described = _describe(exc)
        if described is None:
            raise
        raise described from exc
