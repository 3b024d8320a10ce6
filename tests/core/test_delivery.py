"""Every message once, through crashes, retries and restarts (`leerbot.chat.delivery`).

The platform is `RecordingPlatform`, which plays Discord's part: a nonce seen in a channel
within five minutes returns the first message (`enforce_nonce`), its history can be read
back, and `fail(...)` makes a call fail before or after the message was made. A crash is
`Crash` (a BaseException, as SIGKILL: nothing after it runs, nothing uncommitted stays); the
job then runs again, as the scheduler runs a job cut off by a crash at the next start. Time
is a `FakeClock` the tests move; the retry sleeps move it too, nobody waits.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from leerbot import scheduling
from leerbot.app import App
from leerbot.chat import delivery
from leerbot.chat.platform import SendFailed, Sent
from leerbot.chat.reply import Reply, UserText
from leerbot.clock import FakeClock, using
from leerbot.core import deliveries
from leerbot.db.models import ChannelPost, Community, Member, ReminderDelivery
from tests.helpers import Crash, RecordingPlatform, actor_for
from tests.waiting import GUARD

NAMES = ("Anna", "Bram", "Cem", "Dewi", "Eva")


def hello(locale: str) -> Reply:
    return Reply(text=UserText("Er is een nieuwe ronde. Doe je mee?"))


def reminder(locale: str) -> Reply:
    return Reply(text=UserText("De ronde sluit morgen."))


class World:
    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=seconds)

    async def members(self, names: tuple[str, ...] = NAMES) -> tuple[Community, list[Member]]:
        for name in names:
            await actor_for(self.app.sessionmaker, name)
        async with self.app.sessionmaker() as db:
            community = await db.scalar(select(Community))
            found = list(await db.scalars(select(Member).order_by(Member.id)))
        assert community is not None
        return community, [m for m in found if m.display_name in names]

    async def job(
        self, key: str = "round:1:deliver", grace: timedelta = timedelta(hours=2)
    ) -> scheduling.JobRun:
        async with self.app.sessionmaker() as db, db.begin():
            community = await db.scalar(select(Community))
            assert community is not None
            job = await scheduling.schedule(
                db,
                community_id=community.id,
                kind="test.notice",
                key=key,
                due_at=self.clock.now(),
                grace=grace,
            )
            job_id, due = job.id, job.due_at
        return scheduling.JobRun(
            job_id,
            community.id,
            "test.notice",
            key,
            {},
            due,
            self.app.sessionmaker,
            {"sleep": self.sleep},
        )

    async def rows(self, key: str = "round:1:deliver") -> dict[str, ReminderDelivery]:
        async with self.app.sessionmaker() as db:
            rows = list(
                await db.scalars(select(ReminderDelivery).where(ReminderDelivery.job_key == key))
            )
            names = {m.id: m.display_name for m in await db.scalars(select(Member))}
        return {names[r.member_id]: r for r in rows}

    async def undelivered(self, prefix: str = "round:1:") -> int:
        async with self.app.sessionmaker() as db:
            return await deliveries.undelivered(db, prefix, self.clock.now())


@pytest.fixture
def world(clocked_app: App, clock: FakeClock) -> World:
    return World(clocked_app, clock)


def dm_counts(platform: RecordingPlatform) -> dict[str, int]:
    counts: dict[str, int] = {}
    for who, _ in platform.dms:
        counts[who] = counts.get(who, 0) + 1
    return counts


async def fan_out(world: World, platform: RecordingPlatform, run: scheduling.JobRun) -> None:
    community, members = await world.members()
    await delivery.deliver(run, platform, community, members, hello, "chan-1")


# --- a crash in the middle of a fan-out -------------------------------------------------


@pytest.mark.parametrize("after", [False, True], ids=["before Discord", "after Discord"])
async def test_a_crash_in_a_fan_out_loses_nobody_and_doubles_nobody(
    world: World, clock: FakeClock, after: bool
) -> None:
    """Killed while sending to the third member: before the request reached Discord (the
    row committed as pending: this message used to be lost for good), or right after
    Discord made the message (its answer never came back). The job runs again at the next
    start, a minute later: everyone has their message once."""
    platform = RecordingPlatform()
    with using(clock):
        await world.members()
        run = await world.job()
        platform.fail("send_dm", Crash(), after=after, skip=2)  # at the third member ...
        platform.fail("send_dm", Crash(), after=after)  # ... and the rerun at once
        for _ in range(2):
            with pytest.raises(Crash):
                await fan_out(world, platform, run)
            clock.advance(minutes=1)
        await fan_out(world, platform, run)
    assert dm_counts(platform) == {name.lower(): 1 for name in NAMES}
    rows = await world.rows()
    assert {r.via for r in rows.values()} == {"dm"}
    assert all(r.message_id for r in rows.values()), "confirmed with Discord's id"
    assert "find_sent" not in platform.calls, "inside the nonce window: the nonce decides"
    assert await world.undelivered() == 0


async def test_after_the_nonce_window_the_history_is_checked_before_sending_again(
    world: World, clock: FakeClock
) -> None:
    """Down for ten minutes after a crash right after Discord made the message: Discord no
    longer remembers the nonce, so the history decides. The message is found there and not
    sent again; a message that never reached Discord is sent."""
    platform = RecordingPlatform()
    with using(clock):
        community, members = await world.members(("Anna", "Bram"))
        first, second = await world.job("round:1:deliver"), await world.job("round:1:reminder")
        platform.fail("send_dm", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.deliver(first, platform, community, members, hello, "chan-1")
        platform.fail("send_dm", Crash(), after=False)
        with pytest.raises(Crash):
            await delivery.deliver(second, platform, community, members, reminder, "chan-1")
        clock.advance(minutes=10)
        await delivery.deliver(first, platform, community, members, hello, "chan-1")
        await delivery.deliver(second, platform, community, members, reminder, "chan-1")
    assert dm_counts(platform) == {"anna": 2, "bram": 2}  # one of each job
    assert platform.history_reads == 2, "one look for each unconfirmed message"
    assert {r.via for r in (await world.rows("round:1:deliver")).values()} == {"dm"}
    assert {r.via for r in (await world.rows("round:1:reminder")).values()} == {"dm"}


async def test_when_nothing_can_be_checked_it_is_not_sent_again_and_moderators_see_it(
    world: World, clock: FakeClock
) -> None:
    """After the window and without a history to read (no Read Message History, the
    console): the message may be there. It is not sent a second time; it is marked
    unchecked, logged, and counted as not delivered."""
    platform = RecordingPlatform(history=False)
    with using(clock):
        community, members = await world.members(("Anna", "Bram"))
        run = await world.job()
        platform.fail("send_dm", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.deliver(run, platform, community, members, hello, "chan-1")
        clock.advance(minutes=10)
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
        rows = await world.rows()
        assert dm_counts(platform) == {"anna": 1, "bram": 1}
        assert rows["Anna"].via == "unchecked" and rows["Anna"].reason == "no history here"
        assert rows["Bram"].via == "dm"
        assert await world.undelivered() == 1


class Gathering(RecordingPlatform):
    """Holds the first `together` messages until that many are under way at once; opens
    DM channels (as Discord's `POST /users/@me/channels`) and notes the order."""

    def __init__(self, together: int) -> None:
        super().__init__()
        self.meeting = asyncio.Barrier(together)
        self.held = together
        self.under_way = 0
        self.most = 0
        self.order: list[str] = []

    async def open_dm(self, place_id: str, member_platform_id: str) -> None:
        self.order.append(f"open {member_platform_id}")

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: object, *, nonce: str | None = None
    ) -> Sent | None:
        self.order.append(f"send {member_platform_id}")
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        try:
            if self.held:
                self.held -= 1
                await self.meeting.wait()
            return await super().send_dm(place_id, member_platform_id, reply, nonce=nonce)
        finally:
            self.under_way -= 1


async def test_a_fan_out_has_several_messages_under_way_and_opens_dm_channels_ahead(
    world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four at a time (`SENDERS`): the first four messages are under way together (they
    wait for each other: sent one by one, this would never end), never more; each DM
    channel is opened before its message; everyone gets one."""
    monkeypatch.setattr(delivery, "SENDERS", 4)
    platform = Gathering(4)
    with using(clock):
        community, members = await world.members()
        run = await world.job()
        await asyncio.wait_for(
            delivery.deliver(run, platform, community, members, hello, "chan-1"), GUARD
        )
    assert platform.most == 4
    assert dm_counts(platform) == {name.lower(): 1 for name in NAMES}
    for name in NAMES:
        opened = platform.order.index(f"open {name.lower()}")
        assert opened < platform.order.index(f"send {name.lower()}")
    assert {r.via for r in (await world.rows()).values()} == {"dm"}


# --- transient and final failures -------------------------------------------------------


async def test_transient_failures_are_tried_again_with_the_same_nonce(
    world: World, clock: FakeClock
) -> None:
    """Discord answers 503 twice, then loses the answer to a message it made: tried again
    after 5 and 15 s and once more at once with the same nonce; one message, no wait."""
    platform = RecordingPlatform()
    with using(clock):
        community, members = await world.members(("Anna",))
        run = await world.job()
        platform.fail("send_dm", SendFailed("direct message: Discord 503", transient=True), times=2)
        platform.fail(
            "send_dm", SendFailed("direct message: ClientOSError", transient=True), after=True
        )
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
    assert dm_counts(platform) == {"anna": 1}
    assert world.slept == [5, 15, 30]
    row = (await world.rows())["Anna"]
    assert row.via == "dm" and row.attempts == 4 and row.reason is None


async def test_a_fan_out_pauses_at_a_transient_failure_and_goes_on_from_there(
    world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two messages under way at once: Bram's fails (Discord 502) while Cem's goes. No
    further member is started; after 5 s it goes on from Bram."""
    monkeypatch.setattr(delivery, "SENDERS", 2)
    platform = RecordingPlatform()
    with using(clock):
        community, members = await world.members()
        run = await world.job()
        await delivery.deliver(run, platform, community, members[:1], hello, "chan-1")
        platform.fail("send_dm", SendFailed("direct message: Discord 502", transient=True))
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
    assert [who for who, _ in platform.dms] == ["anna", "cem", "bram", "dewi", "eva"]
    assert world.slept == [5]


async def test_retries_stop_at_the_jobs_grace_and_the_rest_is_failed_not_pending(
    world: World, clock: FakeClock
) -> None:
    """Discord is down for longer than the job may be late (grace 2 minutes): after the
    retries that fit, the messages are failed with the reason, counted for the moderators,
    and nothing is left pending."""
    platform = RecordingPlatform()
    with using(clock):
        community, members = await world.members(("Anna", "Bram"))
        run = await world.job(grace=timedelta(minutes=2))
        platform.fail(
            "send_dm", SendFailed("direct message: Discord 500", transient=True), times=50
        )
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
        rows = await world.rows()
        assert platform.dms == []
        assert sum(world.slept) <= 120
        assert {r.via for r in rows.values()} == {"failed"}
        assert rows["Anna"].reason == "gave up: direct message: Discord 500"
        assert await world.undelivered() == 2


async def test_a_refusal_is_final_logged_and_not_tried_again(
    world: World, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    platform = RecordingPlatform()
    with using(clock):
        community, members = await world.members(("Anna", "Bram"))
        run = await world.job()
        platform.fail("send_dm", SendFailed("direct message: Discord 403 (50001)", transient=False))
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
        await delivery.deliver(run, platform, community, members, hello, "chan-1")  # a rerun
    rows = await world.rows()
    assert rows["Anna"].via == "failed" and rows["Bram"].via == "dm"
    assert rows["Anna"].reason == "direct message: Discord 403 (50001)"
    assert world.slept == [] and dm_counts(platform) == {"bram": 1}
    assert "Discord 403 (50001)" in caplog.text


# --- closed DMs: a private thread, once -------------------------------------------------


async def test_closed_dms_get_one_private_thread_and_one_message_across_crashes(
    world: World, clock: FakeClock
) -> None:
    """Bram does not accept DMs. Killed right after the private thread was opened (before
    its id was written down), and again right after the message in it was made: one thread,
    one message."""
    platform = RecordingPlatform(closed_dms={"bram"})
    with using(clock):
        community, members = await world.members(("Bram",))
        run = await world.job()
        platform.fail("open_thread", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.deliver(run, platform, community, members, hello, "chan-1")
        clock.advance(minutes=1)
        platform.fail("post", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.deliver(run, platform, community, members, hello, "chan-1")
        clock.advance(minutes=10)  # past the window: the thread's history decides
        await delivery.deliver(run, platform, community, members, hello, "chan-1")
    assert len(platform.threads) == 1 and platform.threads[0][1:] == (True, ("bram",))
    assert len(platform.posts) == 1
    row = (await world.rows())["Bram"]
    assert row.via == "thread" and row.channel_id == "t1"


async def test_closed_dms_without_a_channel_for_a_thread_are_failed_with_the_reason(
    world: World, clock: FakeClock
) -> None:
    platform = RecordingPlatform(closed_dms={"bram"})
    with using(clock):
        community, members = await world.members(("Bram",))
        run = await world.job()
        await delivery.deliver(run, platform, community, members, hello, None)
    row = (await world.rows())["Bram"]
    assert row.via == "failed" and "DMs closed" in (row.reason or "")


# --- posts: cards, summaries ------------------------------------------------------------


async def test_a_card_is_posted_once_with_one_thread_and_one_introduction(
    world: World, clock: FakeClock
) -> None:
    """Killed right after Discord made the card, then right after it made the thread's
    introduction: one card, one thread (a thread on a message has the message's id), one
    introduction. The ids are written after Discord confirmed them."""
    platform = RecordingPlatform()
    card, intro = Reply(title=UserText("Punt 7")), Reply(text=UserText("Huisregels"))
    with using(clock):
        community, _ = await world.members(("Anna",))
        run = await world.job("agenda:7:publish:1")
        platform.fail("post", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.post_card(
                run, platform, community, "chan", None, card, "#7", intro, key="agenda:7"
            )
        platform.fail("post", Crash(), after=True)
        with pytest.raises(Crash):
            await delivery.post_card(
                run, platform, community, "chan", None, card, "#7", intro, key="agenda:7"
            )
        posted = await delivery.post_card(
            run, platform, community, "chan", None, card, "#7", intro, key="agenda:7"
        )
    assert posted == ("chan", "m1", "t2")
    assert [channel for channel, _ in platform.posts] == ["chan", "t2"]
    assert len(platform.threads) == 1
    async with world.app.sessionmaker() as db:
        states = {p.key: (p.state, p.message_id) for p in await db.scalars(select(ChannelPost))}
    assert states == {"agenda:7:card": ("sent", "m1"), "agenda:7:intro": ("sent", "m3")}


async def test_a_post_that_failed_for_good_is_tried_again_by_a_later_job_only(
    world: World, clock: FakeClock
) -> None:
    platform = RecordingPlatform()
    card = Reply(title=UserText("Punt 8"))
    with using(clock):
        community, _ = await world.members(("Anna",))
        first, later = await world.job("agenda:8:publish:1"), await world.job("agenda:8:publish:2")
        platform.fail("post", SendFailed("post: Discord 403 (50013)", transient=False))
        assert (
            await delivery.post_card(
                first, platform, community, "chan", None, card, "#8", key="agenda:8"
            )
            is None
        )
        assert (
            await delivery.post_card(
                first, platform, community, "chan", None, card, "#8", key="agenda:8"
            )
            is None
        )
        assert await world.undelivered("agenda:8:") == 1
        posted = await delivery.post_card(
            later, platform, community, "chan", None, card, "#8", key="agenda:8"
        )
    assert posted is not None and len(platform.posts) == 1
    assert await world.undelivered("agenda:8:") == 0


def test_a_card_update_cut_off_with_its_loop_holds_up_no_later_card() -> None:
    """A bot stopped in the middle of a card update (its event loop closed with the update
    still waiting) must not leave that card locked for the next bot in the same process:
    before, session 1's card in the next run never changed again ("0 van 8 bezet")."""
    entered: list[bool] = []

    async def cut_off() -> None:
        async with delivery.card_turn("session", 1) as latest:
            entered.append(latest)
            await asyncio.Event().wait()  # never finishes: its loop goes away first

    first = asyncio.new_event_loop()
    task = first.create_task(cut_off())
    first.run_until_complete(asyncio.sleep(0))
    assert entered == [True]
    first.close()  # the task is left behind, never finished

    async def next_update() -> bool:
        async with delivery.card_turn("session", 1) as latest:
            return latest

    assert asyncio.run(asyncio.wait_for(next_update(), GUARD)) is True, "it shows the update"
    del task
