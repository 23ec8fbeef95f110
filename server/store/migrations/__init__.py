"""The alembic migrations of the store's schema, run by ``Store.open``; no alembic.ini.

- ``env.py`` runs them on the connection ``migrating.upgrade_to_head`` hands over;
- ``versions/r<NNNN>_<slug>.py`` are the revisions ``0001``, ``0002``, ... in order;
- ``script.py.mako`` is the template of a new revision.

To change the schema: edit ``tables.py``, then run

    python -m meetwarden.server.store.migrations "what changed"

which migrates a scratch SQLite database to the current head, compares it
with ``tables.metadata`` and writes the next revision with the differences.
Read it and finish it by hand: data moves, triggers, anything PostgreSQL-only.
Never edit a revision that has shipped. ``tests/store`` checks that the
migrations give exactly the metadata on SQLite and PostgreSQL.

On SQLite, alembic changes most things by copying the table to a new one
(batch mode, ``op.batch_alter_table``). Foreign keys are off while migrating
and checked before the commit (``migrating.upgrade_to_head``), so copying a
table that others refer to is fine; but a copied ``audit_entries`` loses its
append-only triggers, which that revision must then create again.
"""
