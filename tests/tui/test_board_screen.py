"""The board: stage heads show the figures of every deal in the stage, the arrows walk
the stages, and a stage says how many of its deals are below the cards in view."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from crm_tui.app import make_app
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.exchange.batch import create_many
from crm_tui.logic.sales.board import CARDS_PER_STAGE
from crm_tui.screens.pipeline import CARD_HEIGHT, HEAD_LINES, StageColumn, StageStrip

pytestmark = pytest.mark.asyncio


def deals_in_lead(crm, count: int, amount: str) -> None:
    """``count`` deals of ``amount`` for one customer: a new deal starts in Lead."""
    customers.add_customer(crm, CustomerCreate(name="Acme"))
    lines = [json.dumps({"customer": "C-1", "title": f"Deal {n}", "amount": amount}) for n in range(count)]
    assert all(outcome.error is None for outcome in create_many(crm, "deal", lines))


async def settle(pilot) -> None:
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def lead_column(app) -> StageColumn:
    return next(c for c in app.screen.query(StageColumn) if c.stage == "Lead")


def drawn(column: StageColumn) -> list[tuple[str, list[str]]]:
    """Each card in view of a stage, as its deal and the lines drawn for it."""
    in_view = column.cards[column.top : column.top + column.in_view]
    return [
        (
            deal.ref,
            [column.render_line(HEAD_LINES + n * CARD_HEIGHT + i).text.strip() for i in range(CARD_HEIGHT)],
        )
        for n, deal in enumerate(in_view)
    ]


def marked(column: StageColumn) -> list[bool]:
    """For each card in view of a stage: whether its title is drawn marked "▶ "."""
    return [lines[0].startswith("▶ ") for _, lines in drawn(column)]


async def test_a_stage_head_totals_more_deals_than_the_board_shows(crm):
    many = CARDS_PER_STAGE + 5
    deals_in_lead(crm, many, "100")
    app = make_app(crm)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        lead = lead_column(app)
        head = lead.head_text
        assert len(lead.refs) == CARDS_PER_STAGE
        assert head == f"Lead 10%\n{many} · 4,500 EUR"  # 45 deals of 100.00, not the 40 shown


def focused_column(app) -> StageColumn:
    """The stage whose cards have the focus."""
    column = app.screen.focused
    assert isinstance(column, StageColumn)
    return column


def focused_stage(app) -> str:
    return focused_column(app).stage


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_arrows_walk_the_stages_and_every_stage_comes_into_view(crm, size):
    deals_in_lead(crm, 1, "100")
    app = make_app(crm)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        assert focused_stage(app) == "Lead"
        seen = []
        for _ in range(5):
            await pilot.press("right")
            await pilot.pause()
            column = focused_column(app)
            seen.append(column.stage)
            strip = app.screen.query_one(StageStrip)
            assert strip.region.contains_region(column.region), column.stage  # scrolled into view
        assert seen == ["Qualified", "Proposal", "Negotiation", "Won", "Lost"]
        await pilot.press("right")
        assert focused_stage(app) == "Lead"  # round again
        await pilot.press("left")
        assert focused_stage(app) == "Lost"


async def test_the_selected_card_is_marked_in_text_and_a_full_stage_says_how_many_more(crm):
    deals_in_lead(crm, CARDS_PER_STAGE + 3, "1")
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        lead = lead_column(app)
        await pilot.press("down")
        await pilot.pause()
        everywhere = [mark for column in app.screen.query(StageColumn) for mark in marked(column)]
        assert everywhere.count(True) == 1  # one card on the whole board: the one keys act on
        assert marked(lead)[:3] == [False, True, False]
        await pilot.press("right")
        await pilot.pause()
        assert marked(lead)[:3] == [False, False, False]
        shown = lead.in_view  # cards in view, three lines each
        assert shown == 10
        assert lead.more_text == f"+{CARDS_PER_STAGE + 3 - shown} more"


async def test_a_narrow_board_names_the_stages_out_of_view(crm):
    deals_in_lead(crm, 1, "100")
    app = make_app(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        status = app.screen.query_one("#board-status", Static)
        assert str(status.render()) == "Sales pipeline · everyone's deals · Won, Lost ▶"
        for _ in range(5):
            await pilot.press("right")
        await settle(pilot)
        assert focused_stage(app) == "Lost"
        assert str(status.render()) == "Sales pipeline · everyone's deals · ◀ Lead, Qualified"
    async with make_app(crm).run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        status = pilot.app.screen.query_one("#board-status", Static)
        assert str(status.render()).endswith("everyone's deals · ←→ ↑↓ choose · Enter open · shift+←→ move")


async def test_the_board_shows_once_read_and_a_key_pressed_meanwhile_wins(crm):
    from crm_tui.screens.customers import CustomersScreen
    from crm_tui.screens.pipeline import PipelineScreen

    deals_in_lead(crm, 2, "100")
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f4", "f4", "f3")  # F3 before the board was read: the list shows
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        assert len(lead_column(app).refs) == 2 and focused_stage(app) == "Lead"
