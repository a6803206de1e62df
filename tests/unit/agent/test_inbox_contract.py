"""One contract for every agent inbox, run against SQLite (a file in tmp_path) and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agentbus.agent.errors import InboxError
from agentbus.agent.inbox import (
    LIVE_OWNERS,
    ClaimOutcome,
    Inbox,
    Owner,
    SqliteInbox,
    StoredReply,
    inbox_from_url,
)
from agentbus.agent.inbox_postgres import PostgresInbox

LEASE = 600.0


@pytest.fixture(params=["sqlite", "postgresql"])
def inbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/agents/writer.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def agent_name() -> str:
    # PostgreSQL is shared by the whole run: a fresh agent name keeps tests apart.
    return f"writer_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def inbox(inbox_url: str, agent_name: str) -> AsyncIterator[Inbox]:
    async with inbox_from_url(inbox_url, agent_name) as opened:
        yield opened


def _live_owner(prefix: str) -> Iterator[Owner]:
    owner = Owner.here(f"{prefix}-{uuid.uuid4().hex[:6]}")
    LIVE_OWNERS.add(owner.instance_id)
    yield owner
    LIVE_OWNERS.discard(owner.instance_id)


@pytest.fixture
def me() -> Iterator[Owner]:
    yield from _live_owner("me")


@pytest.fixture
def other_live() -> Iterator[Owner]:
    yield from _live_owner("other")


def reply(text: str) -> StoredReply:
    return StoredReply(envelope=text.encode(), schema=2, routing_key="result.writer.write")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_urls_choose_the_implementation(tmp_path: Path) -> None:
    assert isinstance(inbox_from_url(f"sqlite:///{tmp_path}/a.db", "a"), SqliteInbox)
    assert isinstance(inbox_from_url("postgresql://u@h/db", "a"), PostgresInbox)
    with pytest.raises(InboxError, match="AGENTBUS_AGENT_INBOX_URL"):
        inbox_from_url("redis://localhost", "a")
    with pytest.raises(InboxError, match="names no file"):
        inbox_from_url("sqlite:///", "a")


async def test_first_claim_acquires_then_done_returns_the_stored_reply(inbox: Inbox, me: Owner) -> None:
    assert (await inbox.claim("t1", me, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED
    sent = await inbox.complete("t1", me, reply("answer-1"))
    assert sent == reply("answer-1")
    again = await inbox.claim("t1", me, lease_s=LEASE)
    assert again.outcome is ClaimOutcome.DONE
    assert again.reply == reply("answer-1")


async def test_a_claim_held_by_a_live_owner_is_busy(inbox: Inbox, me: Owner, other_live: Owner) -> None:
    await inbox.claim("t2", other_live, lease_s=LEASE)
    busy = await inbox.claim("t2", me, lease_s=LEASE)
    assert busy.outcome is ClaimOutcome.BUSY
    assert other_live.instance_id in busy.holder
    # The same runtime seeing its own task again (a redelivery mid-flight) waits too.
    assert (await inbox.claim("t2", other_live, lease_s=LEASE)).outcome is ClaimOutcome.BUSY


async def test_a_dead_owner_on_this_host_is_taken_over(inbox: Inbox, me: Owner) -> None:
    crashed = Owner(f"gone-{uuid.uuid4().hex[:6]}", me.host, dead_pid())
    await inbox.claim("t3", crashed, lease_s=LEASE)
    assert (await inbox.claim("t3", me, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED
    # A runtime of this very process that stopped is dead as well.
    stopped = Owner.here(f"stopped-{uuid.uuid4().hex[:6]}")
    await inbox.claim("t3b", stopped, lease_s=LEASE)
    assert (await inbox.claim("t3b", me, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED


async def test_an_owner_on_another_host_is_waited_for_until_its_lease_ends(inbox: Inbox, me: Owner) -> None:
    remote = Owner("remote-1", "some-other-host", 1)
    await inbox.claim("t4", remote, lease_s=LEASE)
    assert (await inbox.claim("t4", me, lease_s=LEASE)).outcome is ClaimOutcome.BUSY
    assert (await inbox.claim("t4", me, lease_s=0.0)).outcome is ClaimOutcome.ACQUIRED


async def test_release_lets_the_task_be_acted_on_again(inbox: Inbox, me: Owner, other_live: Owner) -> None:
    await inbox.claim("t5", me, lease_s=LEASE)
    await inbox.release("t5", other_live)  # not the holder: nothing happens
    assert (await inbox.claim("t5", other_live, lease_s=LEASE)).outcome is ClaimOutcome.BUSY
    await inbox.release("t5", me)
    assert (await inbox.claim("t5", other_live, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED


async def test_the_first_completed_reply_wins(inbox: Inbox, me: Owner, other_live: Owner) -> None:
    await inbox.claim("t6", me, lease_s=LEASE)
    assert await inbox.complete("t6", me, reply("first")) == reply("first")
    # A replica that took the claim over and finished later sends the first answer, not its own.
    assert await inbox.complete("t6", other_live, reply("second")) == reply("first")
    await inbox.release("t6", me)  # a done task is never released
    assert (await inbox.claim("t6", other_live, lease_s=LEASE)).reply == reply("first")


async def test_prune_forgets_only_old_completed_tasks(inbox: Inbox, me: Owner) -> None:
    await inbox.claim("old", me, lease_s=LEASE)
    await inbox.complete("old", me, reply("x"))
    await inbox.claim("running", me, lease_s=LEASE)
    assert await inbox.prune(3600) == 0
    assert await inbox.prune(-1) == 1  # "finished before a second from now"
    assert (await inbox.claim("old", me, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED
    assert (await inbox.claim("running", me, lease_s=LEASE)).outcome is ClaimOutcome.BUSY


async def test_replies_survive_closing_and_reopening(inbox_url: str, agent_name: str, me: Owner) -> None:
    async with inbox_from_url(inbox_url, agent_name) as first:
        await first.claim("t7", me, lease_s=LEASE)
        await first.complete("t7", me, reply("durable"))
    async with inbox_from_url(inbox_url, agent_name) as second:
        claim = await second.claim("t7", me, lease_s=LEASE)
    assert claim.outcome is ClaimOutcome.DONE
    assert claim.reply == reply("durable")


async def test_agents_sharing_a_database_do_not_see_each_other(inbox_url: str, me: Owner) -> None:
    async with inbox_from_url(inbox_url, "agent_a") as a, inbox_from_url(inbox_url, "agent_b") as b:
        await a.claim("same-id", me, lease_s=LEASE)
        await a.complete("same-id", me, reply("a"))
        assert (await b.claim("same-id", me, lease_s=LEASE)).outcome is ClaimOutcome.ACQUIRED
        await b.release("same-id", me)


async def test_using_a_closed_inbox_says_so(tmp_path: Path, me: Owner) -> None:
    inbox = SqliteInbox(tmp_path / "x.db", "writer")
    with pytest.raises(InboxError, match="not open"):
        await inbox.claim("t", me, lease_s=LEASE)
