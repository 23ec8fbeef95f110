"""Over HTTP the server answers in the language of Accept-Language: the policy's plain
words, problem+json details, and the browser client's catalog."""

from __future__ import annotations

import httpx
import pytest
from support.server import RunningServer

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
