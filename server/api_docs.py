"""``/docs``: the REST API's reference, from the OpenAPI document, with nothing from elsewhere.

FastAPI's own ``/docs`` (Swagger UI) and ``/redoc`` load their scripts from a
CDN and fonts from Google, run inline scripts, and had none of the app's
security headers: each page view told third parties who reads the docs, and
a compromised CDN would run its code on this origin. This page is the web
client's kind of page instead: a script of this server's
(``server/web/js/api-docs.js``) reads ``/openapi.json`` and shows every
operation as text, under the same Content-Security-Policy (no inline code,
Trusted Types) as the app's other pages. ``/redoc`` is gone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from .web import page_response

__all__ = ["router"]

router = APIRouter()


@router.get("/docs", include_in_schema=False)
async def api_docs(request: Request) -> Response:
    """The API reference page (its data: ``GET /openapi.json``)."""
    return page_response(request, "api-docs.html")
