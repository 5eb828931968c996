"""The footer of the customer screens: the keys at hand where the cursor is."""

from __future__ import annotations

import pytest

from crm_tui.app import make_app
from crm_tui.screens.customers import CustomerDetailScreen, CustomersScreen
from crm_tui.screens.widgets.keys_footer import FooterKey, KeysFooter
from tests.tui.customer_steps import settle

pytestmark = pytest.mark.asyncio


def footer_keys(screen) -> tuple[FooterKey, ...]:
    return screen.query_one(KeysFooter).keys


def described(screen) -> list[str]:
    return [key.description for key in footer_keys(screen) if key.enabled]


async def test_the_footer_follows_the_section_with_the_cursor(team):
    crm = team
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_record("C-1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerDetailScreen)
        assert "Remove" in described(screen) and "Done" not in described(screen)  # the contacts
        screen.query_one("#tasks").focus()
        await settle(pilot)
        assert "Done" in described(screen) and "Remove" not in described(screen)
        drawn = footer_keys(screen)
        screen.query_one("#timeline").focus()
        await settle(pilot)
        screen.query_one("#deals").focus()  # the same keys as on the timeline
        await settle(pilot)
        assert "Done" not in described(screen) and "Remove" not in described(screen)
        kept = footer_keys(screen)
        screen.query_one("#orders").focus()
        await settle(pilot)
        assert footer_keys(screen) == kept != drawn


async def test_the_list_footer_hides_its_letter_keys_in_the_filter_and_shows_them_back(team):
    crm = team
    app = make_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomersScreen)
        in_table = described(screen)
        assert "New" in in_table and "Sort" in in_table
        await pilot.press("slash")
        await settle(pilot)
        assert "New" not in described(screen) and "Sort" in described(screen)  # ctrl+o is no text
        await pilot.press("escape")
        await settle(pilot)
        assert described(screen) == in_table


@pytest.mark.parametrize(("size", "says"), [((80, 24), " f1 More keys "), ((160, 40), " f1 Help ")])
async def test_f1_is_always_in_the_footer_and_says_when_keys_did_not_fit(team, size, says):
    app = make_app(team)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        line = footer.render().plain
        assert says in line and line.index(says) < line.index("palette")
        shown = [key.description for key in footer.keys if not key.help]
        fitted = all(f" {description} " in line for description in shown)
        assert fitted == (says == " f1 Help ")  # at 80 columns some keys are left to F1
