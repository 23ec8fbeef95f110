"""Reading a join link: the server's base URL, the meeting id and an invite token.

A link is what the host hands out (``https://host/m/MEETING_ID``, an invite
link adds ``#invite=TOKEN``); a bare meeting id works beside ``server=``.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from .errors import InvalidArgumentError

__all__ = ["parse_join_link"]


def parse_join_link(link: str, server: str | None = None) -> tuple[str, str, str | None]:
    """(server base URL, meeting id, invite token from the link's fragment, if any)."""
    parts = urlsplit(link)
    if parts.scheme in ("http", "https") and "/m/" in parts.path:
        base = f"{parts.scheme}://{parts.netloc}"
        meeting_id = parts.path.rsplit("/m/", 1)[1].strip("/")
        invite = None
        if parts.fragment.startswith("invite="):
            invite = unquote(parts.fragment.removeprefix("invite="))
        return base, meeting_id, invite
    if parts.scheme in ("http", "https"):
        raise InvalidArgumentError(
            "link", link, "a join link's path is /m/MEETING_ID, as the host got it"
        )
    if server is None:
        raise InvalidArgumentError(
            "link",
            link,
            "give a join link (http://host/m/MEETING_ID), or a meeting id with server=",
        )
    if urlsplit(server).scheme not in ("http", "https") or not urlsplit(server).netloc:
        raise InvalidArgumentError("server", server, "give the server's base URL, http(s)://host")
    if not link or "/" in link:
        raise InvalidArgumentError("link", link, "a meeting id is one path segment")
    return server.rstrip("/"), link, None
