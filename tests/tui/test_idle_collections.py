"""Full garbage collections happen while the user is idle, not in the middle of a key."""

from __future__ import annotations

import gc

import pytest

from crm_tui import app as desk
from crm_tui.app import NEVER, IdleCollections, make_app
from tests.tui.customer_steps import settle


def test_a_full_collection_waits_until_no_key_came_for_a_second(monkeypatch):
    now = [100.0]
    collected: list[int] = []
    monkeypatch.setattr(desk.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(desk.gc, "collect", lambda: collected.append(1) or 0)
    collections = IdleCollections()
    collections.input_came()
    now[0] += 0.5
    assert not collections.collect_if_idle() and not collected
    now[0] += 0.6  # 1.1 s after the key
    assert collections.collect_if_idle() and len(collected) == 1


@pytest.mark.asyncio
async def test_the_desk_takes_the_oldest_generation_over_and_gives_it_back(team):
    before = gc.get_threshold()
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert gc.get_threshold() == (*before[:2], NEVER)
        app.collections.last_input = 0.0
        await pilot.press("f3")
        assert app.collections.last_input > 0.0  # a key counts as the user at work
    assert gc.get_threshold() == before
