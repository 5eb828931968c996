"""Deals on the board: new, edit, win, lose, reopen, archive, order and paging through a
long stage, each asserting what is stored and what the board shows, cursor included."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from crm_tui.app import make_app
from crm_tui.logic.sales import board, deals, orders, pipelines
from crm_tui.logic.sales.board import CARDS_PER_STAGE
from crm_tui.logic.sales.schemas import DealCreate, DealUpdate
from crm_tui.screens.orders import OrderDetail
from crm_tui.screens.pipeline import HEAD_LINES, DealDetail, PipelineScreen, StageColumn, StageStrip
from crm_tui.screens.widgets.forms import FormDialog, Picker, PickField
from crm_tui.screens.widgets.keys_footer import KeysFooter
from tests.tui.test_board_screen import deals_in_lead, drawn

pytestmark = pytest.mark.asyncio


async def settle(pilot, rounds: int = 6) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def board_of(app) -> PipelineScreen:
    assert isinstance(app.screen, PipelineScreen)
    return app.screen


def column(app, stage: str) -> StageColumn:
    return next(c for c in board_of(app).query(StageColumn) if c.stage == stage)


def selected(app) -> tuple[str | None, str | None]:
    """The stage the cursor is in and the deal it is on, as the board shows them."""
    stage, deal = board_of(app)._current()
    marked = [
        ref for c in board_of(app).query(StageColumn) for ref, lines in drawn(c) if lines[0].startswith("▶ ")
    ]
    assert marked == ([deal.ref] if deal else [])  # the one card keys act on is marked in text
    return (stage.stage if stage else None, deal.ref if deal else None)


async def on_card(pilot, stage: str, reference: str) -> None:
    """Put the cursor on ``reference`` in ``stage``, as the arrow keys would."""
    found = column(pilot.app, stage)
    found.select(found.refs.index(reference))
    await settle(pilot, 2)
    assert selected(pilot.app) == (stage, reference)


async def open_board(pilot) -> None:
    await pilot.press("f4")
    await settle(pilot)


def card_lines(app, reference: str) -> list[str]:
    """The lines drawn for the card of ``reference``, wherever it is in view."""
    return next(
        lines for c in board_of(app).query(StageColumn) for ref, lines in drawn(c) if ref == reference
    )


def notified(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_new_deal_from_the_board_starts_in_the_stage_selected(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await pilot.press("right")  # Qualified
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog) and form.values()["stage"] == "Qualified"
        await pilot.press("enter")  # the customer picker, focused first
        await settle(pilot)
        await pilot.press(*"bright", "enter")
        await settle(pilot)
        form.query_one("#field-title", Input).value = "Lab robots"
        form.query_one("#field-amount", Input).value = "30000"
        form.query_one("#field-contact", PickField).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press(*"emma", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        stage, made = selected(app)
        assert stage == "Qualified" and made is not None
        assert column(app, "Qualified").refs[0] == made  # the newest change first
        assert f"Added {made} Lab robots in Qualified" in notified(app)
        head = column(app, "Qualified").head_text
    stored = deals.get_deal(team, made)
    assert (stored.title, stored.customer, stored.contact, stored.stage, stored.amount) == (
        "Lab robots", "C-3", "P-6", "Qualified", "30000.00",
    )  # fmt: skip
    in_qualified = deals.list_deals(team, stage="Qualified", limit=100).deals
    assert head.splitlines()[1].startswith(f"{len(in_qualified)} · ")  # the head counts the new deal


async def test_an_edit_from_the_board_is_shown_on_the_card_with_the_cursor_kept(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-amount", Input).value = "4800"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert selected(app) == ("Negotiation", "D-29")
        assert card_lines(app, "D-29")[2] == "4,800.00 EUR"
    assert deals.get_deal(team, "D-29").amount == "4800.00"


async def test_win_acts_at_once_shows_the_deal_in_won_and_says_how_to_undo(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("w")
        await settle(pilot)
        assert selected(app) == ("Won", "D-29")
        won = column(app, "Won")
        assert won.refs[0] == "D-29"
        assert app.screen.query_one(StageStrip).region.contains_region(won.region)  # scrolled into view
        assert "D-29" not in column(app, "Negotiation").refs
        assert "Won D-29 · ctrl+z undo" in notified(app)
    assert deals.get_deal(team, "D-29").status == "won"


async def test_lose_asks_why_and_shows_the_deal_in_lost(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("l")
        await settle(pilot)
        app.screen.query_one(Input).value = "Went with a rival"
        await pilot.press("enter")
        await settle(pilot)
        assert selected(app) == ("Lost", "D-29")
        assert "Lost D-29 · ctrl+z undo" in notified(app)
    lost = deals.get_deal(team, "D-29")
    assert (lost.status, lost.lost_reason) == ("lost", "Went with a rival")


async def test_escape_on_the_lose_prompt_leaves_the_deal_open(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*"No budg", "escape")
        await settle(pilot)
        assert selected(app) == ("Negotiation", "D-29")
    assert deals.get_deal(team, "D-29").status == "open"


async def test_reopen_puts_a_won_deal_back_in_its_last_open_stage(team):
    deals.win_deal(team, "D-29")
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Won", "D-29")
        await pilot.press("r")
        await settle(pilot)
        assert selected(app) == ("Negotiation", "D-29")
        assert "Reopened D-29 · ctrl+z undo" in notified(app)
    assert (deals.get_deal(team, "D-29").status, deals.get_deal(team, "D-29").stage) == (
        "open",
        "Negotiation",
    )


STEPS = {"Win", "Lose", "Reopen", "Order", "Move right", "Move left"}


def steps_offered(app) -> set[str]:
    """The deal steps the board's footer offers for the selected card."""
    return {key.description for key in app.screen.query_one(KeysFooter).keys if key.enabled} & STEPS


async def test_the_board_offers_the_steps_of_the_selected_deal_and_no_other(team, counts):
    app = make_app(team)
    before = counts()
    async with app.run_test(size=(160, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        assert steps_offered(app) == {"Win", "Lose", "Move right", "Move left"}
        for key in ("r", "o"):  # not offered for an open deal: nothing happens
            await pilot.press(key)
            await settle(pilot)
            assert selected(app) == ("Negotiation", "D-29") and isinstance(app.screen, PipelineScreen)
        assert counts() == before
        won = column(app, "Won").refs[0]
        await on_card(pilot, "Won", won)
        assert steps_offered(app) == {"Reopen", "Order"}
        lost = column(app, "Lost").refs[0]
        await on_card(pilot, "Lost", lost)
        assert steps_offered(app) == {"Reopen"}


async def test_archive_takes_the_deal_off_the_board_and_the_cursor_goes_to_its_neighbour(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        qualified = column(app, "Qualified").refs
        await on_card(pilot, "Qualified", qualified[1])
        await pilot.press("a")
        await settle(pilot)
        assert selected(app) == ("Qualified", qualified[2])  # the card that was below it
        assert qualified[1] not in column(app, "Qualified").refs
        assert f"Archived {qualified[1]} · ctrl+z undo" in notified(app)
    assert deals.get_deal(team, qualified[1]).archived_at is not None


async def test_a_win_over_someone_elses_change_is_refused(team, as_user):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        deals.update_deal(as_user("sara"), "D-29", DealUpdate(title="Mobile app v2"))
        await pilot.press("w")
        await settle(pilot)
        assert any("D-29 was changed by sara" in text for text in notified(app))
        assert selected(app) == ("Negotiation", "D-29")
    assert deals.get_deal(team, "D-29").status == "open"


async def test_records_changed_reloads_the_board_keeping_the_cursor_on_the_deal(team, as_user):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        negotiation = column(app, "Negotiation").refs
        await on_card(pilot, "Negotiation", negotiation[2])
        deals.update_deal(as_user("sara"), negotiation[2], DealUpdate(title="Renamed"))
        board_of(app).records_changed()  # as ctrl+z does after an undo
        await settle(pilot)
        assert selected(app) == ("Negotiation", negotiation[2])
        assert card_lines(app, negotiation[2])[0] == "▶ Renamed"


async def test_order_on_a_won_deal_drafts_the_order_and_opens_it(team):
    deals.win_deal(team, "D-29")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Won", "D-29")
        await pilot.press("o")
        await settle(pilot)
        (made,) = [o for o in orders.list_orders(team, limit=100)[0] if o.deal == "D-29"]
        assert isinstance(app.screen, OrderDetail) and app.screen.reference == made.ref
        await pilot.press("escape")
        await settle(pilot)
        assert selected(app) == ("Won", "D-29")
    assert (made.customer, made.status) == (deals.get_deal(team, "D-29").customer, "draft")


async def test_enter_opens_the_deal_with_its_history_and_its_keys_act_on_it(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, DealDetail)
        text = str(view.query_one("#deal-text", Static).render())
        assert "Mobile app  D-29  (open)" in text and "History:" in text and "→ Negotiation" in text
        await pilot.press("w")
        await settle(pilot)
        assert "D-29  (won)" in str(view.query_one("#deal-text", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert selected(app) == ("Won", "D-29")
    assert deals.get_deal(team, "D-29").status == "won"


async def test_an_archived_deal_opened_by_reference_can_be_restored(team):
    deals.archive_deal(team, "D-29")
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record("D-29")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, DealDetail)
        assert "(open, archived)" in str(view.query_one("#deal-text", Static).render())
        await pilot.press("a")
        await settle(pilot)
        assert "Restored D-29 · ctrl+z undo" in notified(app)
        assert "(open)" in str(view.query_one("#deal-text", Static).render())
    assert deals.get_deal(team, "D-29").archived_at is None


async def test_scrolling_down_a_long_stage_loads_the_rest_of_its_deals(crm):
    many = CARDS_PER_STAGE + 7
    deals_in_lead(crm, many, "100")
    everyone = [d.ref for d in deals.list_deals(crm, stage="Lead", limit=100).deals]
    app = make_app(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        lead = column(app, "Lead")
        assert lead.refs == everyone[:CARDS_PER_STAGE]
        assert lead.more_text == f"+{many - 5} more"  # 5 cards in view
        for _ in range(CARDS_PER_STAGE - 1):
            await pilot.press("down")
        await settle(pilot, 2)
        assert selected(app) == ("Lead", everyone[CARDS_PER_STAGE - 1])
        assert lead.more_text == f"↑{CARDS_PER_STAGE - 5} · +7 more"  # scrolled: some above
        await pilot.press("down")  # past the last card loaded
        await settle(pilot)
        assert lead.refs == everyone  # the rest, in the board's order, none twice
        assert selected(app) == ("Lead", everyone[CARDS_PER_STAGE])
        for _ in range(10):
            await pilot.press("down")
        await settle(pilot)
        assert selected(app) == ("Lead", everyone[-1])
        assert lead.more_text == f"↑{many - 5} above"
        head = lead.head_text
        assert head == f"Lead 10%\n{many} · {many * 100:,} EUR"  # over all the stage's deals
        await pilot.press("w")  # a card loaded by paging keeps its place after an action
        await settle(pilot)
        assert selected(app) == ("Won", everyone[-1])


async def test_a_reload_finds_a_deal_the_stage_had_paged_to(crm, as_user):
    deals_in_lead(crm, CARDS_PER_STAGE + 3, "100")
    everyone = [d.ref for d in deals.list_deals(crm, stage="Lead", limit=100).deals]
    app = make_app(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        for _ in range(CARDS_PER_STAGE + 1):
            await pilot.press("down")
            await settle(pilot, 1)
        assert selected(app) == ("Lead", everyone[CARDS_PER_STAGE + 1])
        board_of(app).records_changed()
        await settle(pilot)
        assert selected(app) == ("Lead", everyone[CARDS_PER_STAGE + 1])
        assert isinstance(app.screen.focused, StageColumn)


async def test_ctrl_z_after_a_win_puts_the_deal_back_with_the_cursor_on_it(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("w")
        await settle(pilot)
        assert selected(app) == ("Won", "D-29")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert selected(app) == ("Negotiation", "D-29")
        assert "D-29" not in column(app, "Won").refs
    undone = deals.get_deal(team, "D-29")
    assert (undone.status, undone.stage) == ("open", "Negotiation")


def head(app, stage: str) -> str:
    return column(app, stage).head_text


async def test_shift_arrows_move_the_deal_between_stages_and_the_heads_count_it(team):
    app = make_app(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_board(pilot)
        built = list(board_of(app).query(StageColumn))
        await on_card(pilot, "Lead", "D-13")
        assert head(app, "Lead") == "Lead 10%\n4 · 255,000 EUR"
        assert head(app, "Qualified") == "Qualified 25%\n9 · 416,500 EUR"
        await pilot.press("shift+right")
        await settle(pilot)
        assert selected(app) == ("Qualified", "D-13")
        assert column(app, "Qualified").refs[0] == "D-13"  # the newest change first
        assert "D-13" not in column(app, "Lead").refs
        assert head(app, "Lead") == "Lead 10%\n3 · 169,500 EUR"  # 85,500 less
        assert head(app, "Qualified") == "Qualified 25%\n10 · 502,000 EUR"
        assert deals.get_deal(team, "D-13").stage == "Qualified"
        assert "Moved D-13 to Qualified · ctrl+z undo" in notified(app)
        await pilot.press("less_than_sign")  # "<", as Shift+← where the terminal sends no shift
        await settle(pilot)
        assert selected(app) == ("Lead", "D-13")
        assert head(app, "Lead") == "Lead 10%\n4 · 255,000 EUR"
        await pilot.press("shift+left")  # no stage before the first: nothing happens
        await settle(pilot)
        assert selected(app) == ("Lead", "D-13")
        assert list(board_of(app).query(StageColumn)) == built  # the columns were not built again
    assert deals.get_deal(team, "D-13").stage == "Lead"


async def test_a_won_deal_is_not_moved_by_the_arrows_until_reopened(team):
    deals.win_deal(team, "D-29")
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Won", "D-29")
        assert not steps_offered(app) & {"Move right", "Move left"}
        for key in ("shift+left", "shift+right"):  # towards Lost too: no question of losing it
            await pilot.press(key)
            await settle(pilot)
            assert selected(app) == ("Won", "D-29")
    assert deals.get_deal(team, "D-29").status == "won"


async def test_a_click_on_a_stage_head_moves_the_selected_deal_there(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Lead", "D-13")
        await pilot.click(column(app, "Proposal"), offset=(3, 1))  # its head, inside the border
        await settle(pilot)
        assert selected(app) == ("Proposal", "D-13")
        await pilot.click(column(app, "Won"), offset=(3, 1))  # the Won stage's head wins it
        await settle(pilot)
        assert selected(app) == ("Won", "D-13")
        assert "Won D-13 · ctrl+z undo" in notified(app)
    assert deals.get_deal(team, "D-13").status == "won"


async def test_a_click_on_a_card_selects_it_and_a_click_on_the_selected_card_opens_it(team):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        negotiation = column(app, "Negotiation")
        second = negotiation.refs[1]
        # The second card's customer: inside the border, under the head.
        await pilot.click(negotiation, offset=(3, 1 + HEAD_LINES + 4))
        await settle(pilot, 2)
        assert selected(app) == ("Negotiation", second)
        await pilot.click(negotiation, offset=(3, 1 + HEAD_LINES + 3))
        await settle(pilot)
        assert isinstance(app.screen, DealDetail) and app.screen.reference == second


async def test_mine_shows_only_my_deals_with_my_figures(team, as_user):
    app = make_app(as_user("sven"))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert "Sales pipeline · my deals" in str(app.screen.query_one("#board-status", Static).render())
        assert column(app, "Lead").refs == ["D-12", "D-2"]  # sven's, the newest change first
        assert head(app, "Lead") == "Lead 10%\n2 · 121,500 EUR"
        assert selected(app) == ("Lead", "D-12")
        await pilot.press("m")
        await settle(pilot)
        assert head(app, "Lead") == "Lead 10%\n4 · 255,000 EUR"
        assert selected(app) == ("Lead", "D-12")  # the cursor stays on its deal


async def test_p_shows_the_next_pipeline_with_its_own_stages(team):
    pipelines.add_pipeline(team, "Partners")  # the usual six stages
    pipelines.add_pipeline(team, "Renewals")
    pipelines.add_stage(team, "Renewals", "Trial", probability=40)  # seven
    deals.add_deal(team, DealCreate(customer="C-1", title="Reseller deal", pipeline="Partners"))
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        status = app.screen.query_one("#board-status", Static)
        assert str(status.render()).startswith("Sales pipeline")
        await pilot.press("p")
        await settle(pilot)
        stages = [c.stage for c in board_of(app).query(StageColumn)]
        (made,) = column(app, "Lead").refs
        assert selected(app) == ("Lead", made)
        assert stages == ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
        assert str(status.render()).startswith("Partners pipeline")
        await pilot.press("p")
        await settle(pilot)
        assert str(status.render()).startswith("Renewals pipeline")
        stages = [c.stage for c in board_of(app).query(StageColumn)]
        assert stages == ["Lead", "Qualified", "Proposal", "Negotiation", "Trial", "Won", "Lost"]
        assert all(c.more_text == "No deals" for c in board_of(app).query(StageColumn))
        await pilot.press("p")
        await settle(pilot)
        assert str(status.render()).startswith("Sales pipeline")
        assert head(app, "Lead") == "Lead 10%\n4 · 255,000 EUR"


async def test_the_board_is_read_once_when_first_shown(team, monkeypatch):
    read = []

    def counted(*args, **kwargs):
        read.append(args)
        return real(*args, **kwargs)

    real = board.board
    monkeypatch.setattr(board, "board", counted)
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        assert len(read) == 1
        assert selected(app) == ("Lead", column(app, "Lead").refs[0])


async def test_back_from_a_deal_the_board_shows_what_changed_meanwhile(team, as_user):
    app = make_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_board(pilot)
        await on_card(pilot, "Negotiation", "D-29")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealDetail)
        deals.update_deal(as_user("sara"), "D-29", DealUpdate(title="Mobile app v2"))
        await pilot.press("escape")
        await settle(pilot)
        assert selected(app) == ("Negotiation", "D-29")
        assert card_lines(app, "D-29")[0] == "▶ Mobile app v2"
