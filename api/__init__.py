"""HTTP layer of Maillage: app factory, routes, error mapping. No SQL, no FAISS here."""

from api.app import create_app

__all__ = ["create_app"]
