"""Request body size limit (``MAILLAGE_MAX_BODY_BYTES``, default 256 KiB), answered 413 in French.

The counting is Starlette's ``RequestBodyLimitMiddleware``: a ``Content-Length`` over the
limit is refused before any byte of the body is read, and a body without one (chunked) is
counted as it streams and cut as soon as it passes the limit, so a 50 MB body is never
held in memory. It answers a plain-text "Content Too Large"; ``FrenchTooLarge``, just
outside it, replaces every 413 by the API's JSON shape (``{"detail": "…"}``), or by a French
error page under ``/ui``, and asks the server to close the connection (the rest of the
body is not read).

The same limit holds for the JSON API and the web pages' forms.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def format_bytes(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def too_large_message(limit: int) -> str:
    return f"corps de la requête trop volumineux : {format_bytes(limit)} octets au plus"


class FrenchTooLarge:
    """Pure ASGI middleware: any 413 from inside becomes the French answer (JSON or page)."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app, self.max_body_size = app, max_body_size

    def response(self, scope: Scope) -> Response:
        message = too_large_message(self.max_body_size)
        if scope.get("path", "").startswith("/ui"):
            from api.web import too_large_page  # the pages' own look (imported late: web imports the app's modules)

            response: Response = too_large_page(Request(scope), message)
        else:
            response = JSONResponse({"detail": message}, status_code=413)
        response.headers["connection"] = "close"
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_french(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the body of the replaced answer
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
                await self.response(scope)(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, send_french)


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Limit request bodies to ``max_body_bytes`` (add before the metrics, so that 413s are counted)."""
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=max_body_bytes)
    app.add_middleware(FrenchTooLarge, max_body_size=max_body_bytes)
