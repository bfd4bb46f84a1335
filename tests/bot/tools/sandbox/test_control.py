"""The sandbox's control endpoint, CLI process and bench helper: the knobs from another process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter

from bot.tools.sandbox import Sandbox
from bot.tools.sandbox.__main__ import main as sandbox_main
from bot.tools.sandbox.bench import measure_send_rate, sandbox_process, server_cpu_seconds


def root(base_url: str) -> str:
    return base_url.removesuffix("/bot")


async def control(http: httpx.AsyncClient, base_url: str, **command: Any) -> Any:
    response = await http.post(f"{root(base_url)}/sandbox/control", json=command)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def stats(http: httpx.AsyncClient, base_url: str, query: str = "") -> Any:
    response = await http.get(f"{root(base_url)}/sandbox/stats{query}")
    assert response.status_code == 200
    return response.json()["result"]


async def test_control_endpoint_drives_faults_flood_users_and_stats(sandbox: Sandbox) -> None:
    url = sandbox.base_url
    async with httpx.AsyncClient() as http, Bot(sandbox.token, base_url=url) as bot:
        armed = await control(
            http, url, action="fault", method="sendMessage", kind="error", status=502
        )
        assert armed[0]["status"] == 502
        await control(http, url, action="auto_users", enabled=True)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(500, "lost")
        await bot.send_message(500, "arrives")

        await control(http, url, action="flood", mode="strict", chat_burst=1)
        await bot.send_message(500, "a fresh limiter: the burst of one")
        with pytest.raises(RetryAfter):
            await bot.send_message(500, "too soon")
        await control(http, url, action="flood", mode="off")
        await bot.send_message(500, "no limits")

        sent = await control(http, url, action="send", user=7, text="/start", first_name="Sam")
        (update,) = await bot.get_updates()
        assert update.message is not None
        assert (update.message.message_id, update.message.text) == (sent["message_id"], "/start")
        assert update.message.from_user is not None
        assert update.message.from_user.first_name == "Sam"
        await bot.send_message(7, "welcome")

        result = await stats(http, url)
        assert result["requests"]["sendMessage"] == 6
        assert result["injected_errors"] == 1
        assert result["flood_refusals"] == 1
        assert result["flood_mode"] == "off"
        assert result["messages_per_chat"] == {"500": 3, "7": 1}
        assert result["reply_latency"]["count"] == 1
        assert "messages_per_chat" not in await stats(http, url, "?per_chat=0")

        idle = await http.get(f"{root(url)}/sandbox/idle")
        assert idle.json()["result"]["idle"] is False  # update 1 not yet confirmed
        await bot.get_updates(offset=update.update_id + 1)
        idle = await http.get(f"{root(url)}/sandbox/idle")
        assert idle.json()["result"] == {"idle": True, "reason": None}

        await control(http, url, action="block", user=7)
        assert sandbox.users[7].blocked
        await control(http, url, action="reset_stats")
        assert (await stats(http, url))["requests"] == {}


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ({"action": "explode"}, "unknown action"),
        ({"action": "fault", "method": "sendMessage", "kind": "boom"}, "unknown fault kind"),
        ({"action": "flood", "mode": "sometimes"}, "unknown flood mode"),
        ({"action": "send", "user": "x", "text": "hi"}, "numeric user id"),
        ({"action": "press", "user": 1, "label": "Nope"}, "no bot message"),
        (["not", "an", "object"], "JSON object"),
    ],
)
async def test_control_endpoint_refuses_bad_commands_kindly(
    sandbox: Sandbox, command: Any, message: str
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{root(sandbox.base_url)}/sandbox/control", json=command)
        assert response.status_code == 400
        assert response.json()["ok"] is False
        assert message in response.json()["description"]
        response = await http.post(f"{root(sandbox.base_url)}/sandbox/control", content=b"{")
        assert response.status_code == 400


async def test_control_is_not_under_the_token_prefix(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{sandbox.base_url}{sandbox.token}/sandbox/control", json={"action": "clear_faults"}
        )
    assert response.status_code == 404


async def test_cli_process_with_flags_and_the_bench_helper() -> None:
    """The sandbox in its own process, as benchmarks run it; the rate is printed, not judged."""
    flags = ("--flood", "off", "--auto-users", "--fault", "sendMessage,drop,count=1")
    async with sandbox_process(*flags) as url, httpx.AsyncClient() as http:
        assert (await stats(http, url))["faults_armed"][0]["kind"] == "drop"
        rate = await measure_send_rate(url, sends=120, concurrency=16, first_chat=1, chats=40)
        assert (rate.sent, rate.failed) == (119, 1)  # the dropped reply is a NetworkError
        result = await stats(http, url)
        assert result["lost_replies"] == 1
        assert result["flood_refusals"] == 0
        assert result["messages"] == 120  # the dropped one reached its chat all the same
        assert sorted(set(result["messages_per_chat"].values())) == [3]
        assert await server_cpu_seconds(url) > 0
        print(f"{rate.per_second:.0f} sendMessage/s")


def test_cli_refuses_a_bad_fault_spec(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sandbox_main(["--fault", "sendMessage,explode"])
    assert "unknown fault kind" in capsys.readouterr().err
