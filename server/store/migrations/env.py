"""Alembic's environment: runs the migrations on the connection the store hands over.

``meetwarden.server.store.migrating`` puts an open (synchronous facade of an
async) connection in ``config.attributes["connection"]``; the migrations run
in that connection's transaction and the store commits it. Without one (a
developer's ``python -m meetwarden.server.store.migrations``), this opens the
URL in ``sqlalchemy.url`` with its async driver itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from meetwarden.server.store.database import create_engine, parse_url
from meetwarden.server.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_own_engine(url: str) -> None:
    engine = create_engine(parse_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


_given: Connection | None = config.attributes.get("connection")
if _given is not None:
    _run(_given)
else:
    asyncio.run(_run_on_own_engine(config.get_main_option("sqlalchemy.url") or ""))
