"""The alert engine against a real database: exactly once, restarts, staleness, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from models.alerts import AlertError, AlertRequest, Alerts
from models.db import make_sessionmaker, open_engine
from models.tables import Alert, Occurrence
from scheduler.alerts import AlertEngine, IngestFailed, IngestResult
from scheduler.feeds import PriceTick, SimulatedFeed
from scheduler.outbox import Outbox
from tests.support.factories import RecordingDeliverer, make_conversation

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = open_engine(migrated_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


class World:
    """An engine, the outbox it sends through, and the chat-side service."""

    def __init__(self, sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.deliverer = RecordingDeliverer()
        self.outbox = Outbox(sessionmaker=sessionmaker, deliverer=self.deliverer, clock=clock)
        self.engine = AlertEngine(sessionmaker=sessionmaker, outbox=self.outbox,
                                  feed=SimulatedFeed(seed=1), clock=clock, max_age_seconds=300)
        self.alerts = Alerts(sessionmaker=sessionmaker, quote=self.engine.quote,
                             known_symbols=self.engine.known_symbols, on_change=self.engine.refresh, clock=clock)

    async def tick(self, symbol: str, *prices: float) -> int:
        fired = 0
        for price in prices:
            self.clock.now += timedelta(seconds=1)
            result = await self.engine.ingest([PriceTick(symbol=symbol, price=price, at=self.clock.now, source="push")])
            fired += result.fired
        await self.outbox.idle(5)
        return fired

    async def alert(self) -> Alert:
        async with self.sessionmaker() as session:
            return (await session.execute(select(Alert))).scalar_one()

    async def occurrences(self) -> list[Occurrence]:
        async with self.sessionmaker() as session:
            return list((await session.execute(select(Occurrence).order_by(Occurrence.id))).scalars())


@pytest.fixture
async def world(sessionmaker):
    async with sessionmaker.begin() as session:
        ids = await make_conversation(session)
    world = World(sessionmaker, Clock())
    world.ids = ids
    await world.engine.start()
    return world


async def create(world: World, request: AlertRequest) -> None:
    await world.alerts.create(user_pk=world.ids[0], conversation_pk=world.ids[1], request=request)


async def test_two_ticks_arriving_together_fire_once(world):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000, repeat=True))
    world.clock.now += timedelta(seconds=1)
    both = [
        PriceTick(symbol="BTC", price=p, at=world.clock.now + timedelta(milliseconds=i), source="push")
        for i, p in enumerate((70100, 70200))
    ]
    results = await asyncio.gather(world.engine.ingest(both[:1]), world.engine.ingest(both[1:]))
    await world.outbox.idle(5)
    assert sum(r.fired for r in results) == 1
    assert len(world.deliverer.sent) == 1 and len(await world.occurrences()) == 1


async def test_a_restart_neither_repeats_nor_forgets_a_firing(world, sessionmaker):
    await world.tick("ETH", 3900)
    await create(world, AlertRequest(symbol="ETH", condition="above", threshold=4000, repeat=True))
    assert await world.tick("ETH", 4050) == 1

    restarted = World(sessionmaker, world.clock)
    await restarted.engine.start()
    assert await restarted.tick("ETH", 4060, 4070) == 0  # still disarmed: no repeat after restart
    assert await restarted.tick("ETH", 3970, 4010) == 1  # back past the band, then up again
    alert = await restarted.alert()
    assert (alert.fire_count, alert.armed, alert.state) == (2, False, "active")


async def test_a_rearm_is_persisted_too(world, sessionmaker):
    await world.tick("ETH", 3900)
    await create(world, AlertRequest(symbol="ETH", condition="above", threshold=4000, repeat=True))
    await world.tick("ETH", 4050, 3950)  # fire, then re-arm
    assert (await world.alert()).armed is True
    restarted = World(sessionmaker, world.clock)
    await restarted.engine.start()
    assert await restarted.tick("ETH", 4001) == 1


async def test_a_failed_write_loses_nothing_and_sends_nothing(world, monkeypatch):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000))
    original = world.engine._persist
    calls = []

    async def broken(*args, **kwargs):
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is away"))

    monkeypatch.setattr(world.engine, "_persist", broken)
    with pytest.raises(IngestFailed):
        await world.tick("BTC", 70500)
    assert world.deliverer.sent == [] and await world.occurrences() == []
    monkeypatch.setattr(world.engine, "_persist", original)
    # The index was re-read from the rows: the next tick above the level fires, once.
    assert await world.tick("BTC", 70600) == 1
    assert await world.tick("BTC", 70700) == 0
    assert calls == [1] and len(world.deliverer.sent) == 1


async def test_stale_ticks_fire_nothing_and_do_not_become_the_price(world):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000))
    old = PriceTick(symbol="BTC", price=99999, at=world.clock.now - timedelta(minutes=10), source="http:x")
    assert await world.engine.ingest([old]) == IngestResult(accepted=0, stale=1, fired=0)
    assert world.engine.quote("BTC").price == 68000


async def test_expiry_and_snooze_are_kept_by_housekeeping(world):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000, expires_in_seconds=3600))
    await world.tick("BTC", 68000)
    world.clock.now += timedelta(hours=2)
    await world.engine.housekeeping()
    assert (await world.alert()).state == "expired"
    assert await world.tick("BTC", 71000) == 0


async def test_snoozed_alert_is_silent_then_watches_again(world):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000))
    await world.alerts.snooze(user_pk=world.ids[0], number=1, minutes=60)
    assert await world.tick("BTC", 70500) == 0
    world.clock.now += timedelta(minutes=61)
    await world.engine.housekeeping()
    assert (await world.alert()).state == "active"
    assert await world.tick("BTC", 70600) == 1


async def test_a_failed_write_keeps_a_rearm_for_after_a_restart(world, sessionmaker, monkeypatch):
    await world.tick("ETH", 3900)
    await create(world, AlertRequest(symbol="ETH", condition="above", threshold=4000, repeat=True))
    await world.tick("ETH", 4050)  # fired: disarmed in the row

    async def broken(*args, **kwargs):
        raise ConnectionRefusedError("database is away")  # what asyncpg raises, not SQLAlchemyError

    monkeypatch.setattr(world.engine, "_persist", broken)
    with pytest.raises(IngestFailed):
        await world.tick("ETH", 3950)  # would re-arm, but nothing was written
    monkeypatch.undo()
    # The index was re-read from the row (still disarmed): it needs the re-arm again.
    assert await world.tick("ETH", 4010) == 0
    assert await world.tick("ETH", 3960, 4020) == 1


async def test_a_refresh_during_a_database_blip_is_retried_by_housekeeping(world, monkeypatch):
    await world.tick("BTC", 68000)
    await create(world, AlertRequest(symbol="BTC", condition="above", threshold=70000))
    await world.alerts.pause(user_pk=world.ids[0], number=1)
    real = world.engine._sessionmaker

    def away():
        raise ConnectionRefusedError("database is away")

    world.engine._sessionmaker = away
    await world.alerts.resume(user_pk=world.ids[0], number=1)  # row active; re-read fails
    world.engine._sessionmaker = real
    assert await world.tick("BTC", 70100) == 0  # not in the index yet
    await world.engine.housekeeping()
    assert await world.tick("BTC", 70200) == 1


async def test_pushed_prices_own_their_symbol_while_fresh(world):
    await world.tick("BTC", 70000)
    world.clock.now += timedelta(seconds=1)
    simulated = PriceTick(symbol="BTC", price=68000, at=world.clock.now, source="simulated", simulated=True)
    assert (await world.engine.ingest([simulated])).accepted == 0
    assert world.engine.quote("BTC").price == 70000
    world.clock.now += timedelta(minutes=6)  # the pushed price went stale: the feed takes over
    simulated = PriceTick(symbol="BTC", price=68000, at=world.clock.now, source="simulated", simulated=True)
    assert (await world.engine.ingest([simulated])).accepted == 1


async def test_a_stale_quote_is_not_a_base_for_a_new_alert(world):
    await world.tick("BTC", 68000)
    world.clock.now += timedelta(minutes=10)
    with pytest.raises(AlertError, match="too old"):
        await create(world, AlertRequest(symbol="BTC", condition="cross", threshold=69000))


async def test_a_rearmed_cross_fires_at_its_level_again(world):
    await world.tick("BTC", 99.0)
    await create(world, AlertRequest(symbol="BTC", condition="cross", threshold=100))
    assert await world.tick("BTC", 100.5) == 1
    await world.alerts.rearm(user_pk=world.ids[0], number=1)
    assert await world.tick("BTC", 99.8) == 1  # crossed 100 downwards: no band needed after a re-arm
