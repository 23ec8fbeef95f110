"""Who may create meetings: operator API keys, host accounts, sessions, CSRF, the first link.

Driven from outside against a real server, the way the security bar was tried:
plain HTTP requests that a script, a signed-in browser or another site would
send.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from support.server import SETUP_LINK, RunningServer

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with an operator API key and a host account, alice."""
    running = RunningServer(tmp_path_factory.mktemp("hosting"))
    running.create_account("alice", PASSWORD)
    running.start()
    yield running
    running.stop()


def own_origin(server: RunningServer) -> dict[str, str]:
    return {"Origin": server.url}


@pytest.fixture
async def browser_like(hosting: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies like a browser, signed in as alice from the server's page."""
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        signed = await http.post(
            "/api/session",
            json={"username": "alice", "password": PASSWORD},
            headers=own_origin(hosting),
        )
        assert signed.status_code == 200, signed.text
        yield http


async def test_creating_a_meeting_without_a_credential_is_refused(hosting: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        anonymous = await http.post("/api/meetings", json={"policy": {}})
        # What a page on another site can send without a preflight: a text/plain form POST.
        cross_site = await http.post(
            "/api/meetings",
            content=b'{"policy": {}}',
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        )
        made_up = await http.post(
            "/api/meetings",
            json={"policy": {}},
            headers={"Authorization": "Bearer mwk_0123456789ab_" + "A" * 43},
        )
        malformed = await http.post(
            "/api/meetings", json={"policy": {}}, headers={"Authorization": "Bearer hunter2"}
        )
        with_key = await http.post(
            "/api/meetings",
            json={"policy": {}},
            headers={"Authorization": f"Bearer {hosting.api_key}"},
        )
    for refused in (anonymous, cross_site):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["reason"] == "not_signed_in"
        assert "API key" in refused.json()["detail"]
        assert refused.headers["www-authenticate"].startswith("Bearer")
    for refused in (made_up, malformed):
        assert refused.status_code == 401
        assert refused.json()["reason"] == "invalid_credential"
    assert with_key.status_code == 201, with_key.text  # the control: a key opens the door


async def test_an_api_key_is_shown_once_stored_hashed_and_stops_working_when_revoked(
    hosting: RunningServer,
) -> None:
    made = hosting.cli("keys", "create", "--name", "nightly build")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    key_id = key.split("_")[1]
    assert re.fullmatch(r"mwk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
    listed = hosting.cli("keys", "list")
    assert f"{key_id}  nightly build" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout + listed.stderr
    database = (hosting.data_dir / "meetwarden.db").read_bytes()
    assert key.split("_", 2)[2].encode() not in database, "the key is stored as itself"
    operator = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        before = await http.post("/api/meetings", json={"policy": {}}, headers=operator)
        assert hosting.cli("keys", "revoke", key_id).returncode == 0
        after = await http.post("/api/meetings", json={"policy": {}}, headers=operator)
    assert before.status_code == 201
    assert (after.status_code, after.json()["reason"]) == (401, "invalid_credential")
    assert f"{key_id}  nightly build" in hosting.cli("keys", "list").stdout
    assert "revoked" in hosting.cli("keys", "list").stdout.split(key_id)[1].splitlines()[0]


async def test_a_signed_in_host_creates_meetings_only_from_this_servers_pages(
    hosting: RunningServer, browser_like: httpx.AsyncClient
) -> None:
    http = browser_like
    session = (await http.get("/api/session")).json()
    assert session["username"] == "alice"
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    no_token = await http.post("/api/meetings", json={"policy": {}}, headers=own_origin(hosting))
    # Another site's form: the browser attaches the cookie (a top-level POST) but the
    # page can neither read the CSRF token nor set a header without a preflight.
    cross_site_form = await http.post(
        "/api/meetings",
        content=b'{"policy": {}}',
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    wrong_origin = await http.post(
        "/api/meetings", json={"policy": {}}, headers={**csrf, "Origin": "http://evil.example"}
    )
    no_origin = await http.post("/api/meetings", json={"policy": {}}, headers=csrf)
    wrong_token = await http.post(
        "/api/meetings",
        json={"policy": {}},
        headers={**own_origin(hosting), "X-CSRF-Token": "x" * 43},
    )
    from_the_page = await http.post(
        "/api/meetings", json={"policy": {}}, headers={**csrf, **own_origin(hosting)}
    )
    assert (no_token.status_code, no_token.json()["reason"]) == (403, "csrf_token_invalid")
    assert (wrong_token.status_code, wrong_token.json()["reason"]) == (403, "csrf_token_invalid")
    for refused in (cross_site_form, wrong_origin, no_origin):
        assert (refused.status_code, refused.json()["reason"]) == (403, "cross_site_request")
    assert from_the_page.status_code == 201, from_the_page.text


async def test_the_session_cookie_is_http_only_lax_and_signing_out_ends_it_on_the_server(
    hosting: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        signed = await http.post(
            "/api/session",
            json={"username": "Alice", "password": PASSWORD},  # usernames ignore case
            headers=own_origin(hosting),
        )
        cookie = signed.headers["set-cookie"]
        value = http.cookies["meetwarden-session"]
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"], **own_origin(hosting)}
        assert signed.headers["cache-control"] == "no-store"
        cross_site_sign_out = await http.delete("/api/session", headers={"Origin": "http://x.test"})
        assert (await http.get("/api/session")).status_code == 200  # still signed in
        signed_out = await http.delete("/api/session", headers=csrf)
        after = await http.get("/api/session")
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http on loopback: a Secure cookie would be lost
    assert cross_site_sign_out.status_code == 403
    assert signed_out.status_code == 204
    assert after.status_code == 401
    # The old cookie, replayed, opens nothing: the session ended on the server.
    async with httpx.AsyncClient(base_url=hosting.url) as replay:
        replay.cookies.set("meetwarden-session", value)
        assert (await replay.get("/api/session")).status_code == 401
        refused = await replay.post("/api/meetings", json={"policy": {}})
        assert refused.status_code == 401


async def test_signing_in_from_another_site_is_refused(hosting: RunningServer) -> None:
    """Login CSRF: another site may not sign a visitor into an account of its choosing."""
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        refused = await http.post(
            "/api/session",
            content=b'{"username": "alice", "password": "' + PASSWORD.encode() + b'"}',
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        )
    assert (refused.status_code, refused.json()["reason"]) == (403, "cross_site_request")
    assert "set-cookie" not in refused.headers


async def test_an_unknown_username_and_a_wrong_password_are_answered_alike(
    hosting: RunningServer,
) -> None:
    answers = []
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        for username in ("alice", "nobody-here"):
            response = await http.post(
                "/api/session",
                json={"username": username, "password": "not the password at all"},
                headers=own_origin(hosting),
            )
            answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401
    assert answers[0][1]["reason"] == "sign_in_failed"


async def test_concurrent_password_guesses_are_bounded_and_do_not_lock_the_host_out(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path / "data")
    server.create_account("alice", PASSWORD)
    server.start()
    try:
        guess = {"username": "alice", "password": "wrong password guess"}
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/api/session", json=guess, headers=own_origin(server))
                    for _ in range(32)
                )
            )
            own_again = await http.post(
                "/api/session",
                json={"username": "alice", "password": PASSWORD},
                headers=own_origin(server),
            )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(401) <= 10, statuses  # checked against argon2: at most 10
        assert statuses.count(429) >= 22, statuses
        assert all(a.headers.get("retry-after") for a in answers if a.status_code == 429)
        assert own_again.status_code == 429  # this address is out of attempts for a while
        # The host, from another address, still signs in: strangers cannot lock them out.
        elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=server.url, transport=elsewhere) as http:
            host = await http.post(
                "/api/session",
                json={"username": "alice", "password": PASSWORD},
                headers=own_origin(server),
            )
        assert host.status_code == 200, host.text
    finally:
        server.stop()


async def test_a_server_with_an_https_public_url_sets_a_secure_host_only_cookie(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path / "data", extra_args=["--public-url", "https://meet.example"])
    server.create_account("alice", PASSWORD)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            signed = await http.post(
                "/api/session",
                json={"username": "alice", "password": PASSWORD},
                headers={"Origin": "https://meet.example"},
            )
        assert signed.status_code == 200, signed.text
        cookie = signed.headers["set-cookie"]
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert cookie.startswith("__Host-meetwarden-session=")
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    finally:
        server.stop()


async def test_the_first_start_prints_a_one_time_link_that_sets_up_the_first_account(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path / "data", provision=False).start()
    try:
        found = await server.printed(SETUP_LINK)
        base, token = found.group(1), found.group(2)
        assert base == server.url
        async with httpx.AsyncClient(base_url=server.url) as http:
            page = await http.get("/setup")
            assert page.status_code == 200
            assert "require-trusted-types-for 'script'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            body = {"token": token, "username": "ada", "password": PASSWORD}
            weak = await http.post(
                "/api/accounts",
                json={**body, "password": "short"},
                headers=own_origin(server),
            )
            made = await http.post("/api/accounts", json=body, headers=own_origin(server))
            again = await http.post(
                "/api/accounts", json={**body, "username": "mallory"}, headers=own_origin(server)
            )
            csrf = {"X-CSRF-Token": made.json()["csrf_token"], **own_origin(server)}
            meeting = await http.post("/api/meetings", json={"policy": {}}, headers=csrf)
        assert (weak.status_code, weak.json()["reason"]) == (422, "password_invalid")
        assert weak.json()["field"] == "password"
        assert made.status_code == 201, made.text
        assert made.json()["username"] == "ada"
        assert (again.status_code, again.json()["reason"]) == (403, "setup_link_invalid")
        assert meeting.status_code == 201, "the new account is signed in and may host"
        printed_before = len(server.log)
        server.restart()
        after_restart = (await printed_at_start(server))[printed_before:]
        assert "/setup#token=" not in "".join(after_restart), "a link although an account exists"
    finally:
        server.stop()


async def test_a_server_with_an_api_key_prints_no_set_up_link(hosting: RunningServer) -> None:
    assert "/setup#token=" not in "".join(await printed_at_start(hosting))


async def test_the_operator_hands_out_links_for_more_accounts(hosting: RunningServer) -> None:
    made = hosting.cli("accounts", "link", "--public-url", hosting.url, "--minutes", "5")
    assert made.returncode == 0, made.stderr
    found = SETUP_LINK.search(made.stdout)
    assert found is not None
    async with httpx.AsyncClient(base_url=hosting.url) as http:
        body = {"token": found.group(2), "username": "alice", "password": PASSWORD}
        taken = await http.post("/api/accounts", json=body, headers=own_origin(hosting))
        made_account = await http.post(
            "/api/accounts", json={**body, "username": "bob"}, headers=own_origin(hosting)
        )
    assert (taken.status_code, taken.json()["reason"]) == (409, "username_taken")
    assert made_account.status_code == 201, "a taken username leaves the link usable"
    assert "bob" in hosting.cli("accounts", "list").stdout


async def printed_at_start(server: RunningServer) -> list[str]:
    """The server's log up to a request made after it started: all it printed at start."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        # A path of its own to look for: the log leaves query strings out.
        assert (await http.get("/mark-of-the-start")).status_code == 404
    await server.printed(re.compile(r"GET /mark-of-the-start HTTP"))
    return list(server.log)
