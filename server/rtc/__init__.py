"""What both ends of a meetwarden media connection change in aioice: the server's
media plane and the SDK's bots.

A package of its own, like the wire protocol (``meetwarden.protocol``): the SDK
may not import the server (pyproject.toml, the import contracts), and a rule of
the protocol that both ends must keep is written once. It imports aioice and
asyncio only. Pinned to aioice 0.13.0, as ``meetwarden.server.media.aiortc_seam``
is; ``tests/media/test_aiortc_seam.py`` pins what it replaces.

- ``consent``: consent freshness (RFC 7675) that a late answer does not end.
"""
