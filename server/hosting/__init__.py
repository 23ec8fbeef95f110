"""Who may host: operator API keys, host accounts and their sessions, trusted Host names.

- ``credentials``: the secrets (API keys, session cookies, set-up links) and their hashes;
- ``accounts``: usernames, passwords, and the sign-in attempt budget;
- ``service``: :class:`Hosting`, the operations over the store;
- ``guard``: the credential on a request, the session cookie, Origin and CSRF checks;
- ``routes``: the sign-in and set-up pages and their JSON endpoints;
- ``setup_link``: the one-time link printed at first start;
- ``trusted_hosts``: the Host header check (DNS rebinding).

Nothing is imported here, so that ``server/web.py`` can use ``guard`` while
``routes`` uses ``server/web.py``.
"""
