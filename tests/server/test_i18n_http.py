"""Over HTTP the server answers in the language of Accept-Language: the policy's plain
words, problem+json details, each error of a refused policy, and the browser client's
catalog. A host's socket answers in the language its join named."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support.server import RunningServer, api_key_for

from meetwarden.client_sdk import HostAPI, MeetingClient, PolicyRefusedError

pytestmark = pytest.mark.anyio

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


async def test_a_policy_is_explained_in_the_language_asked_for(server: RunningServer) -> None:
    body = b'{"entry": {"password": true}}'
    async with httpx.AsyncClient(base_url=server.url) as client:
        english = await client.post("/api/policies/explain", content=body)
        chinese = await client.post("/api/policies/explain", content=body, headers=CHINESE)
    rules = {rule["rule"]: rule["text"] for rule in chinese.json()["rules"]}
    assert rules["/entry/password"] == "加入会议需要密码（持邀请者无需密码）。"
    assert [r["rule"] for r in chinese.json()["rules"]] == [
        r["rule"] for r in english.json()["rules"]
    ]


async def test_a_problem_detail_reads_in_the_language_asked_for(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/session",
            json={"username": "nobody", "password": "not the password"},
            headers={**CHINESE, "Origin": server.url},
        )
    assert response.status_code == 401
    problem = response.json()
    assert problem["reason"] == "sign_in_failed"
    assert problem["title"] == "未登录"
    assert problem["detail"] == "用户名或密码错误。"


async def test_the_client_catalog_is_served_like_the_client_s_files(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        chinese = await client.get("/i18n/zh-CN.json")
        unknown = await client.get("/i18n/tlh.json")
        cached = await client.get(
            "/i18n/zh-CN.json", headers={"If-None-Match": chinese.headers["etag"]}
        )
    assert chinese.status_code == 200
    assert "script-src 'self'" in chinese.headers["content-security-policy"]
    document = chinese.json()
    assert document["language"] == "zh-CN"
    assert {"tag": "zh-CN", "name": "简体中文"} in document["languages"]
    assert document["messages"]["Join the meeting"] == "加入会议"
    assert unknown.json()["language"] == "en"
    assert cached.status_code == 304


BAD_POLICY = {"entry": {"locked": "off"}, "audio": {"unmute": "whenever"}, "chat": {"allowd": 1}}
ENGLISH_ERRORS = [
    ("/entry/locked", "wrong_type", 'expected true or false, got the string "off"'),
    (
        "/audio/unmute",
        "invalid_value",
        "must be 'self', 'after_raised_hand' or 'host_only'; got the string \"whenever\"",
    ),
    (
        "/chat/allowd",
        "unknown_field",
        "unknown field 'allowd'; valid fields here are: allowed, private",
    ),
]
CHINESE_ERRORS = [
    ("/entry/locked", "wrong_type", '应为 true 或 false，实际为 字符串 "off"'),
    (
        "/audio/unmute",
        "invalid_value",
        "必须是 'self'、'after_raised_hand'或'host_only'；实际为 字符串 \"whenever\"",
    ),
    ("/chat/allowd", "unknown_field", "未知字段 'allowd'；这里可用的字段有：allowed、private"),
]


def _errors(problem: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(e["pointer"], e["code"], e["message"]) for e in problem["errors"]]


def _same_but_the_sentence(one: dict[str, Any], other: dict[str, Any]) -> None:
    assert [{**e, "message": ""} for e in one["errors"]] == [
        {**e, "message": ""} for e in other["errors"]
    ]


async def test_a_refused_policy_lists_each_error_in_the_language_asked_for(
    server: RunningServer,
) -> None:
    key = {"Authorization": f"Bearer {api_key_for(server.url)}"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        english = await client.post("/api/meetings", json={"policy": BAD_POLICY}, headers=key)
        chinese = await client.post(
            "/api/meetings", json={"policy": BAD_POLICY}, headers={**key, **CHINESE}
        )
        explained = await client.post(
            "/api/policies/explain", content=json.dumps(BAD_POLICY), headers=CHINESE
        )
    assert english.status_code == chinese.status_code == explained.status_code == 422
    assert _errors(english.json()) == ENGLISH_ERRORS  # as it always was
    assert _errors(chinese.json()) == CHINESE_ERRORS
    assert _errors(explained.json()) == CHINESE_ERRORS
    _same_but_the_sentence(english.json(), chinese.json())
    assert english.json()["errors"][0]["key"] == "bool_type"
    assert chinese.json()["errors"][2]["params"] == {
        "field": "allowd",
        "valid": ["allowed", "private"],
    }
    # The detail lists them too, in the same language; params stay as they were.
    assert english.json()["detail"].startswith(
        'The policy has 3 errors: /entry/locked: expected true or false, got the string "off"; '
    )
    assert chinese.json()["detail"].startswith(
        '策略有 3 处错误：/entry/locked：应为 true 或 false，实际为 字符串 "off"；'
    )
    assert chinese.json()["params"] == english.json()["params"]


async def test_a_refused_policy_update_speaks_the_hosts_language_over_rest_and_socket(
    server: RunningServer,
) -> None:
    created = await HostAPI.create_meeting(server.url, {}, api_key=api_key_for(server.url))
    host = await MeetingClient.connect(
        created.join_url, name="Li Wei", host_token=created.host_token, language="zh-CN"
    )
    try:
        bearer = {"Authorization": f"Bearer {created.host_token}"}
        path = f"/api/meetings/{created.meeting_id}/policy"
        async with httpx.AsyncClient(base_url=server.url) as client:
            over_rest = await client.put(path, json=BAD_POLICY, headers={**bearer, **CHINESE})
        assert over_rest.status_code == 422
        assert _errors(over_rest.json()) == CHINESE_ERRORS
        with pytest.raises(PolicyRefusedError) as over_socket:
            await host.update_policy(BAD_POLICY)
        assert over_socket.value.reason == "policy_invalid"
        errors = over_socket.value.errors
        assert [(e["pointer"], e["code"], e["message"]) for e in errors] == CHINESE_ERRORS
        assert [e["key"] for e in errors] == ["bool_type", "literal_error", "extra_forbidden"]
    finally:
        await host.close()
