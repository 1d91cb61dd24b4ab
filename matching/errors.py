"""Domain errors. The API maps them to HTTP statuses in one place (``api/errors.py``)."""

from __future__ import annotations


class MaillageError(Exception):
    """Base of the errors a user can fix."""


class NotFound(MaillageError, LookupError):
    """An entity does not exist (in this territory)."""

    def __init__(self, what: str, ident: str) -> None:
        self.what, self.ident = what, ident
        super().__init__(f"{what} introuvable : {ident!r}")


class InvalidRequest(MaillageError, ValueError):
    """A request is well-formed but cannot be answered (e.g. inconsistent ids)."""


class Conflict(MaillageError):
    """The request contradicts what is stored (e.g. an event id reused with other content)."""


class IngestError(MaillageError, ValueError):
    """A row of an ingest file is invalid; nothing of its batch was written."""

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        self.source, self.line, self.field, self.message = source, line, field, message
        super().__init__(f"{source}, ligne {line}, champ {field!r} : {message}")


class Unavailable(MaillageError):
    """The store cannot be reached or written now (restarting, busy, disk full or read-only).

    ``retry_after``: seconds after which trying again makes sense (the API's ``Retry-After``);
    ``written``: whether the unit of work was committed (False: nothing of it was written).
    """

    def __init__(self, message: str, *, retry_after: int = 2, written: bool = False) -> None:
        self.retry_after, self.written = retry_after, written
        super().__init__(message)
