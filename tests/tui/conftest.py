"""Fixtures of the TUI's tests: screens that look the same whenever and wherever they run."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
import time_machine
from textual.app import App
from textual.widgets import Input, TextArea
from textual.widgets._toast import Toast

from crm_tui.config import load_settings
from crm_tui.logic.core.context import open_crm
from tests.conftest import demo_file
from tests.tui.snapshots import SHOWN_PATH

FROZEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday morning


@pytest.fixture
def frozen(monkeypatch):
    """Time stands still at ``FROZEN``, in UTC, so screens that show times look the same."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with time_machine.travel(FROZEN, tick=False):
        yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def steady_cursor(monkeypatch):
    """A focused input's cursor stays lit instead of blinking every half second of real
    time, and a toast stays shown, so a picture taken on a busy machine shows what one
    taken at once does."""
    # Turning an input's cursor_blink off would hide its cursor; the blink timer's
    # callback is the one place that makes the cursor go dark on its own.
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    # A focused text box always shows its cursor too.
    monkeypatch.setattr(TextArea, "_draw_cursor", property(lambda self: self.has_focus))
    # A toast stays until the picture is taken: its timer runs on the real clock, and
    # a busy machine could take the picture after the toast had gone.
    monkeypatch.setattr(Toast, "_expire", lambda self: None)
    # The picture's style classes numbered by what they are, not by the order Rich met
    # them in, which can differ for the same screen in a process that drew others before.
    export = App.export_screenshot
    monkeypatch.setattr(
        App, "export_screenshot", lambda self, **options: canonical_svg(export(self, **options))
    )


def canonical_svg(svg: str) -> str:
    """``svg`` with its ``terminal-rN`` style classes renumbered in the order of their rules."""
    rules = dict(re.findall(r"\.terminal-r(\d+) \{ ([^}]*) \}", svg))
    order = sorted(rules, key=lambda number: (rules[number], int(number)))
    renumbered = {old: str(new) for new, old in enumerate(order, start=1)}
    return re.sub(r"terminal-r(\d+)\b", lambda m: f"terminal-r{renumbered.get(m[1], m[1])}", svg)


@pytest.fixture
def team(demo_crm):
    """crm opened as alice on the demo: the desk's tests act on a team at work."""
    return demo_crm


@pytest.fixture
def fresh_crm(tmp_path, tmp_path_factory, monkeypatch):
    """Opens a new database in the test's own folder, shown at ``SHOWN_PATH``:
    ``fresh_crm(with_demo=False)``. Each is closed at the end of the test."""
    opened = []

    def open_new(with_demo: bool = True):
        path = tmp_path / f"crm{len(opened) + 1}.sqlite3"
        if with_demo:
            path.write_bytes(demo_file(tmp_path_factory.getbasetemp()))
            path.chmod(0o600)
        crm = open_crm(load_settings(db=str(path)))
        opened.append(crm)
        monkeypatch.setattr(crm, "describe", lambda: SHOWN_PATH)
        return crm

    yield open_new
    for crm in opened:
        crm.close()
