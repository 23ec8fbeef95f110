"""``/docs``: the API reference from this server alone, with the app's security headers."""

from __future__ import annotations

import re

import httpx
import pytest
from support.server import RunningServer

from meetwarden.server.web import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.anyio


async def test_docs_load_nothing_from_elsewhere_and_carry_the_security_headers(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        docs = await http.get("/docs")
        redoc = await http.get("/redoc")
        api = await http.get("/openapi.json")
        script = await http.get("/assets/js/api-docs.js")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for header, value in {
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
    }.items():
        assert docs.headers[header] == value, header
    # Every script, style and image is this server's, and no script is inline.
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources
    assert all(source.startswith(("/", "#")) for source in sources), sources
    assert "<script>" not in docs.text  # an inline script would need 'unsafe-inline'
    assert "<style" not in docs.text
    assert "cdn" not in docs.text.lower()
    assert script.status_code == 200
    assert not re.search(r"https?://", script.text), "the docs' script names another origin"
    assert redoc.status_code == 404
    assert "/api/meetings" in api.json()["paths"]
