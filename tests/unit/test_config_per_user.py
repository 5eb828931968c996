"""Each crm user's own choices in one settings file: [users.NAME] tables, written so that
the rest of the file (comments, other users, the file's permissions) stays as it was."""

from __future__ import annotations

import stat
import tomllib

import pytest

from crm_tui.config import SettingsError, load_settings, save_setting, setting_source

HAND_WRITTEN = """\
# My crm settings
theme = "nord"  # everyone's, until they choose
desk_panels = ["my_tickets", "at_risk"]

[keymap]
"customers.new" = "ctrl+n"
"""


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    monkeypatch.setenv("CRM_CONFIG", str(path))
    return path


def test_each_user_has_their_own_table_and_the_rest_of_the_file_stays(settings_file):
    save_setting("desk_panels", ["my_deals", "my_tasks"], user="sara")
    save_setting("theme", "gruvbox", user="alice")
    save_setting("theme", "dracula", user="sara")

    text = settings_file.read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN)  # comments, top-level choices and keymap untouched
    assert "[users.sara]" in text and "[users.alice]" in text
    assert "\n[users]\n" not in text  # no empty table above the users' own
    stored = tomllib.loads(text)
    assert stored["users"] == {
        "sara": {"desk_panels": ["my_deals", "my_tasks"], "theme": "dracula"},
        "alice": {"theme": "gruvbox"},
    }
    settings = load_settings()
    assert settings.personal("sara").desk_panels == ["my_deals", "my_tasks"]
    assert settings.personal("sara").theme == "dracula"
    assert settings.personal("alice").theme == "gruvbox"


def test_a_user_without_a_choice_gets_the_files_top_level_one(settings_file):
    save_setting("theme", "dracula", user="sara")
    settings = load_settings()
    assert settings.personal("sara").desk_panels == ["my_tickets", "at_risk"]  # the old top-level one
    assert settings.personal("sven").theme == "nord"
    assert settings.personal("sven").desk_panels == ["my_tickets", "at_risk"]


def test_no_choice_anywhere_is_none_so_the_role_decides(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "absent.toml"))
    personal = load_settings().personal("sara")
    assert (personal.theme, personal.desk_panels) == (None, None)


def test_a_username_that_is_no_bare_key_is_quoted(settings_file):
    save_setting("theme", "nord", user="sara.k@example")
    assert '[users."sara.k@example"]' in settings_file.read_text(encoding="utf-8")
    assert load_settings().personal("sara.k@example").theme == "nord"


def test_remember_changes_one_users_choice_in_memory_only_for_them(settings_file):
    settings = load_settings()
    settings.remember("sara", "desk_panels", ["my_deals"])
    assert settings.personal("sara").desk_panels == ["my_deals"]
    assert settings.personal("alice").desk_panels == ["my_tickets", "at_risk"]


def test_saving_keeps_the_files_permissions(settings_file):
    settings_file.chmod(0o600)  # it may hold a database password
    save_setting("theme", "nord", user="sara")
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    assert [p.name for p in settings_file.parent.iterdir()] == ["config.toml"]  # no temporary left


def test_a_linked_settings_file_stays_a_link(tmp_path, monkeypatch):
    kept = tmp_path / "dotfiles" / "crm.toml"
    kept.parent.mkdir()
    kept.write_text(HAND_WRITTEN, encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(kept)
    monkeypatch.setenv("CRM_CONFIG", str(link))
    save_setting("theme", "nord", user="sara")
    assert link.is_symlink()
    assert tomllib.loads(kept.read_text(encoding="utf-8"))["users"]["sara"] == {"theme": "nord"}


def test_a_new_settings_file_is_made_with_its_folder(tmp_path, monkeypatch):
    path = tmp_path / "new" / "config.toml"
    monkeypatch.setenv("CRM_CONFIG", str(path))
    save_setting("desk_panels", ["my_deals"], user="sara")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "users": {"sara": {"desk_panels": ["my_deals"]}}
    }


def test_a_settings_file_that_is_not_toml_is_refused_and_left_as_it_was(settings_file):
    settings_file.write_text("theme = [", encoding="utf-8")
    with pytest.raises(SettingsError, match=f"the settings file {settings_file} is not valid TOML"):
        save_setting("theme", "nord", user="sara")
    assert settings_file.read_text(encoding="utf-8") == "theme = ["


def test_users_that_is_not_a_table_is_refused_and_left_as_it_was(settings_file):
    settings_file.write_text("users = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=f"users in the settings file {settings_file} is not a table"):
        save_setting("theme", "nord", user="sara")
    assert settings_file.read_text(encoding="utf-8") == "users = 3\n"


def test_a_bad_value_in_a_users_table_names_the_entry(settings_file):
    settings_file.write_text("[users.sara]\ndesk_panels = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert f"setting users.sara.desk_panels (in {settings_file}): Input should be a valid list" in str(
        refused.value
    )


def test_an_unknown_entry_in_a_users_table_is_kept_for_the_desk_to_report(settings_file):
    settings_file.write_text('[users.sara]\nkeymap = { "customers.new" = "ctrl+n" }\n', encoding="utf-8")
    own = load_settings().users["sara"]
    assert own.model_extra == {"keymap": {"customers.new": "ctrl+n"}}


def test_the_source_of_a_setting_is_its_variable_when_set(settings_file, monkeypatch):
    assert setting_source("theme") == str(settings_file)
    monkeypatch.setenv("CRM_THEME", "nord")
    assert setting_source("theme") == "CRM_THEME"
