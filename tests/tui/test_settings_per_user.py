"""Personal choices per crm user, settings problems said once, and F1 as a key map.

Each app here is built as `crm` builds it at start: the settings read from the file
named by CRM_CONFIG at that moment, acting as the crm user given.
"""

from __future__ import annotations

import tomllib

import pytest
from textual.notifications import Notify
from textual.widgets import Input, SelectionList

from crm_tui.app import CrmApp, make_app
from crm_tui.config import load_settings
from crm_tui.screens.customers import CustomerForm
from crm_tui.screens.desk import DeskScreen, HelpScreen, PanelChooser, PanelTable
from crm_tui.screens.keys import (
    AT_THE_CURSOR,
    EVERYWHERE,
    THIS_DIALOG,
    THIS_SCREEN,
    binding_ids,
    check_keymap,
    every_binding,
    is_key_name,
)
from crm_tui.screens.widgets.dialogs import Confirm
from crm_tui.screens.widgets.row_table import RowTable
from tests.tui.snapshots import settle

COMMENTED = "# shared by the team's laptop\npage_size = 40  # fits the screen\n"


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    monkeypatch.setenv("CRM_CONFIG", str(path))
    return path


def started(crm) -> CrmApp:
    """The desk as `crm --user NAME` starts it: the settings file read now."""
    return make_app(crm, load_settings(user=crm.username))


@pytest.mark.asyncio
def panels_shown(app) -> list[str]:
    return [str(table.id).removeprefix("panel-") for table in app.screen.query(PanelTable)]


@pytest.mark.asyncio
async def choose_panels(pilot, untick: list[str], tick: list[str]) -> None:
    """Press c on the desk, untick then tick panels one at a time, and save."""
    await pilot.press("c")
    await settle(pilot)
    chooser = pilot.app.screen
    assert isinstance(chooser, PanelChooser)
    choices = chooser.query_one(SelectionList)
    for key in untick:
        choices.deselect(key)
        await pilot.pause()
    for key in tick:
        choices.select(key)
        await pilot.pause()
    await pilot.click("#save")
    await settle(pilot)


# Per user


@pytest.mark.asyncio
async def test_two_users_keep_their_own_panels_in_one_settings_file(team, as_user, settings_file):
    sara = as_user("sara")  # sales
    alice_desk = started(team)  # admin
    async with alice_desk.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert panels_shown(alice_desk) == ["team_pipeline", "team_service", "at_risk", "my_tasks"]
        await choose_panels(pilot, untick=["team_pipeline", "team_service", "at_risk"], tick=["my_tickets"])
        assert panels_shown(alice_desk) == ["my_tasks", "my_tickets"]

    sara_desk = started(sara)
    async with sara_desk.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Not the admin's choice: her role's panels.
        assert panels_shown(sara_desk) == ["my_deals", "my_tasks", "my_pipeline"]
        await choose_panels(pilot, untick=["my_deals", "my_tasks"], tick=[])
        assert panels_shown(sara_desk) == ["my_pipeline"]

    text = settings_file.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED)
    assert tomllib.loads(text)["users"] == {
        "alice": {"desk_panels": ["my_tasks", "my_tickets"]},
        "sara": {"desk_panels": ["my_pipeline"]},
    }
    alice_again = started(team)
    async with alice_again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert panels_shown(alice_again) == ["my_tasks", "my_tickets"]


@pytest.mark.asyncio
async def test_an_old_top_level_choice_is_the_default_for_users_without_their_own(
    team, as_user, settings_file
):
    settings_file.write_text(
        'theme = "nord"\ndesk_panels = ["at_risk", "my_tasks"]\n\n'
        '[users.sara]\ndesk_panels = ["my_deals"]\ntheme = "gruvbox"\n',
        encoding="utf-8",
    )
    alice_desk = started(team)
    async with alice_desk.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert panels_shown(alice_desk) == ["at_risk", "my_tasks"]
        assert alice_desk.theme == "nord"
    sara_desk = started(as_user("sara"))
    async with sara_desk.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert panels_shown(sara_desk) == ["my_deals"]
        assert sara_desk.theme == "gruvbox"


@pytest.mark.asyncio
async def test_a_theme_chosen_in_the_app_is_the_choosers_alone(team, as_user, settings_file):
    sara_desk = started(as_user("sara"))
    async with sara_desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sara_desk.theme = "dracula"
        await pilot.pause()
    stored = tomllib.loads(settings_file.read_text(encoding="utf-8"))
    assert stored["users"] == {"sara": {"theme": "dracula"}}
    assert "theme" not in stored
    alice_desk = started(team)
    async with alice_desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert alice_desk.theme != "dracula"


# Settings problems


def notices(messages: list) -> list[tuple[str, str]]:
    return [(m.notification.title, m.notification.message) for m in messages if isinstance(m, Notify)]


BAD_SETTINGS = """\
theme = "nrod"

[keymap]
"customers.nwe" = "ctrl+n"
"customers.new" = "ctrl+nn"
"pipeline.win" = "W"

[users.alice]
desk_panels = ["my_dels", "my_tasks"]
keymap = { "customers.new" = "ctrl+n" }

[users.sara]
theme = "no-such-theme"
"""


@pytest.mark.asyncio
async def test_unknown_ids_keys_themes_and_panels_are_said_once_naming_file_and_entry(team, settings_file):
    settings_file.write_text(BAD_SETTINGS, encoding="utf-8")
    heard: list = []
    app = started(team)
    async with app.run_test(size=(120, 40), message_hook=heard.append) as pilot:
        await settle(pilot)
        said = [notice for notice in notices(heard) if notice[0].startswith("Settings")]
        assert said == [
            (
                f"Settings: {settings_file}",
                'keymap "customers.nwe" is no binding id; see F1 for the ids\n'
                'keymap "customers.new" = "ctrl+nn": "ctrl+nn" is no key name (like ctrl+n, f9, shift+left, <)\n'
                'theme "nrod" is no theme; Ctrl+P, "theme" lists them\n'
                'users.alice.desk_panels "my_dels" is no desk panel; the panels are my_deals, my_tasks, '
                "my_pipeline, my_tickets, unassigned, at_risk, team_pipeline, team_service\n"
                "users.alice.keymap is no personal setting; a user's table takes theme, desk_panels",
            )
        ]
        # What was wrong is left out; the rest applies.
        assert app.theme == "textual-dark"
        assert panels_shown(app) == ["my_tasks"]
        await pilot.press("f3")
        await settle(pilot)
        app.screen.query_one(RowTable).focus()
        await pilot.press("n")  # still New: the mistyped key did not take its place
        await settle(pilot)
        assert isinstance(app.screen, CustomerForm)
        await pilot.press("escape", "f4")
        await settle(pilot)
        assert app.get_key_display(app.screen.active_bindings["W"].binding) == "W"
        await pilot.press("f2", "r")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        # Said once: coming back to the desk and refreshing it does not say it again.
        assert [notice for notice in notices(heard) if notice[0].startswith("Settings")] == said


@pytest.mark.asyncio
async def test_a_setting_from_the_environment_is_named_by_its_variable(team, settings_file, monkeypatch):
    monkeypatch.setenv("CRM_THEME", "nrod")
    heard: list = []
    app = started(team)
    async with app.run_test(size=(80, 24), message_hook=heard.append) as pilot:
        await settle(pilot)
    assert ("Settings: CRM_THEME", 'theme "nrod" is no theme; Ctrl+P, "theme" lists them') in notices(heard)


@pytest.mark.asyncio
async def test_sound_settings_say_nothing(team, settings_file):
    settings_file.write_text(
        'theme = "nord"\ndesk_panels = ["my_tasks"]\n'
        '[keymap]\n"customers.new" = "ctrl+n"\n"pipeline.move_left" = "<,shift+left"\n'
        '[users.alice]\ntheme = "gruvbox"\n',
        encoding="utf-8",
    )
    heard: list = []
    app = started(team)
    async with app.run_test(size=(80, 24), message_hook=heard.append) as pilot:
        await settle(pilot)
        assert app.theme == "gruvbox"
    assert [notice for notice in notices(heard) if notice[0].startswith("Settings")] == []


def test_every_binding_of_the_app_its_screens_and_widgets_has_its_id_listed():
    owners = {item.owner.__name__ for item in every_binding()}
    assert {"CrmApp", "DeskScreen", "HelpScreen", "FormDialog", "Confirm", "RowTable"} <= owners
    for owner in (CrmApp, DeskScreen, Confirm, RowTable):
        for binding in owner.BINDINGS:
            assert binding.id in binding_ids(), (owner.__name__, binding)
    assert all(item.owner.__module__.startswith("crm_tui.") for item in every_binding())


@pytest.mark.parametrize(
    "key",
    ["ctrl+n", "f9", "f24", "shift+left", "W", "<", "less_than_sign", "slash", "space", "ctrl+shift+up"],
)
def test_key_names_textual_knows(key):
    assert is_key_name(key)


@pytest.mark.parametrize(
    "key", ["ctrl+nn", "Ctrl+N", "f25", "ctrl+", "", " ", "cmd+n", "ctrl+<", "escape key", "lessthan"]
)
def test_key_names_that_are_refused(key):
    assert not is_key_name(key)


def test_a_keymap_entry_keeps_only_its_known_keys():
    check = check_keymap({"customers.new": "ctrl+nn, f9", "pipeline.win": "ctrl+x", "nobody.here": "f8"})
    assert check.usable == {"customers.new": "f9", "pipeline.win": "ctrl+x"}
    assert check.problems == [
        'keymap "customers.new" = "ctrl+nn, f9": "ctrl+nn" is no key name (like ctrl+n, f9, shift+left, <)',
        'keymap "nobody.here" is no binding id; see F1 for the ids',
    ]


# F1


@pytest.mark.asyncio
async def test_help_groups_the_keys_by_area_sorted_with_readable_names(team, settings_file):
    app = started(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        groups = {group.title: group.rows for group in help_screen.groups}
        assert list(groups)[:2] == [EVERYWHERE, THIS_SCREEN]
        everywhere = [(row.keys, row.id) for row in groups[EVERYWHERE]]
        assert ("^q", "app.quit") in everywhere
        assert [keys for keys, _id in everywhere if keys.startswith("f")] == [
            "f1",
            "f2",
            "f3",
            "f4",
            "f5",
            "f6",
            "f7",
            "f8",
        ]
        board = [(row.keys, row.does, row.id) for row in groups[THIS_SCREEN]]
        assert ("< / shift+←", "Move left", "pipeline.move_left") in board
        assert ("> / shift+→", "Move right", "pipeline.move_right") in board
        for rows in groups.values():
            keys = [row.keys for row in rows]
            assert keys == sorted(keys, key=str.casefold)
            assert not [key for key in keys if "_" in key]  # no less_than_sign
        shown = app.export_screenshot().replace("&#160;", " ")  # the picture's spaces
        assert EVERYWHERE in shown and THIS_SCREEN in shown and "pipeline.move_left" in shown
        assert "less_than_sign" not in shown
        await pilot.press("f1")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.asyncio
async def test_f1_works_in_a_dialog_and_lists_only_the_keys_that_work_there(team, settings_file):
    app = started(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, PanelChooser)
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        groups = {group.title: [row.id for row in group.rows] for group in help_screen.groups}
        assert list(groups)[:2] == [EVERYWHERE, THIS_DIALOG]
        assert {"app.quit", "app.help"} <= set(groups[EVERYWHERE])
        assert "app.desk" not in groups[EVERYWHERE]  # F2 and the like stop at a dialog
        assert "panels.cancel" in groups[THIS_DIALOG]
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, PanelChooser)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


@pytest.mark.asyncio
async def test_f1_works_in_a_form_while_typing_and_keeps_the_typing(team, settings_file):
    app = started(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        app.screen.query_one(RowTable).focus()
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerForm)
        name = form.query_one("#field-name", Input)
        name.focus()
        await pilot.press(*"Zeta")
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        groups = {group.title: [row.id for row in group.rows] for group in help_screen.groups}
        assert "form.save" in groups[THIS_DIALOG]
        assert AT_THE_CURSOR in groups  # the text field's own keys
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert name.value == "Zeta"
