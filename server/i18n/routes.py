"""``GET /i18n/{language}.json``: the browser client's sentences in one language.

Built at each start from the ``.po`` files (no compiled catalogs to keep in step);
served like the client's other files: the security headers, an ETag, revalidated.
A language the server has no catalog for answers with English (an empty catalog:
the client's message ids are the English sentences).
"""

from __future__ import annotations

import functools
import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..web import SECURITY_HEADERS
from . import client_catalog
from .languages import LANGUAGE_NAMES, LANGUAGES, Language, supported

__all__ = ["router"]

router = APIRouter()


@functools.cache
def _body(language: Language) -> bytes:
    document = {
        "language": language,
        "languages": [{"tag": tag, "name": LANGUAGE_NAMES[tag]} for tag in LANGUAGES],
        "messages": client_catalog(language),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


@router.get("/i18n/{name}", include_in_schema=False)
async def catalog_json(request: Request, name: str) -> Response:
    """The client's catalog: ``{"language", "languages": [{"tag", "name"}], "messages"}``."""
    tag = name.removesuffix(".json") if name.endswith(".json") else ""
    language = supported(tag) or "en"
    body = _body(language)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
