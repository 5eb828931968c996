"""What the settings ask of the desk that it cannot do, said once when the desk starts.

A value of the wrong type stops crm before anything starts (config.load_settings); these
are the values only the desk can judge: a keymap entry naming no binding or no key, a
theme or desk panel that does not exist, an entry in a user's table that is no personal
setting. Each is said naming where it is written, and the desk carries on without it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from crm_tui.config import PersonalSettings, Settings, setting_source
from crm_tui.logic.reports import desk
from crm_tui.screens.keys import check_keymap


@dataclass(frozen=True)
class SettingsCheck:
    keymap: dict[str, str]  # the keymap entries the desk can apply
    # One sentence for each problem, naming its entry, under the file (or CRM_* variable)
    # it is written in.
    problems: dict[str, list[str]]


def check_settings(settings: Settings, username: str, themes: Collection[str]) -> SettingsCheck:
    """The keymap the desk can apply, and every problem of the settings that concern
    ``username``: the top-level entries, and their own ``[users.NAME]`` table."""
    keymap = check_keymap(settings.keymap)
    problems: dict[str, list[str]] = {}

    def said(name: str, problem: str) -> None:
        problems.setdefault(_where(name), []).append(problem)

    for problem in keymap.problems:
        said("keymap", problem)
    # Each choice as (where it comes from, its entry, its value): the file's top-level
    # one (or its CRM_* variable), then the user's own.
    own = settings.users.get(username) or PersonalSettings()
    # As TOML names the table: a name that is no bare key is quoted ([users."sara.k"]).
    mine = f"users.{username}" if re.fullmatch(r"[A-Za-z0-9_-]+", username) else f'users."{username}"'
    for source, entry, theme in (("theme", "theme", settings.theme), ("users", f"{mine}.theme", own.theme)):
        if theme is not None and theme not in themes:
            said(source, f'{entry} "{theme}" is no theme; Ctrl+P, "theme" lists them')
    for source, entry, panels in (
        ("desk_panels", "desk_panels", settings.desk_panels),
        ("users", f"{mine}.desk_panels", own.desk_panels),
    ):
        for panel in panels or []:
            if panel not in desk.PANELS:
                said(source, f'{entry} "{panel}" is no desk panel; the panels are {", ".join(desk.PANELS)}')
    for name in own.model_extra or {}:
        said(
            "users",
            f"{mine}.{name} is no personal setting; "
            f"a user's table takes {', '.join(PersonalSettings.model_fields)}",
        )
    return SettingsCheck(keymap.usable, problems)


def _where(name: str) -> str:
    """The file a setting comes from, home shown as ~, or its CRM_* variable."""
    source = setting_source(name)
    if source.startswith("CRM_"):
        return source
    path = Path(source)
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)
