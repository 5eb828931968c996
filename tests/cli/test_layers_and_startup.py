"""The layer rules hold, and start-up stays light."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _modules_loaded_by(*argv: str) -> set[str]:
    probe = (
        "import json, sys\n"
        f"sys.argv = {['crm', *argv]!r}\n"
        "from crm_tui.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.__stderr__.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(result.stderr)}


def test_help_and_version_load_neither_the_database_stack_nor_the_tui():
    heavy = {"sqlalchemy", "sqlmodel", "alembic", "textual"}
    for argv in (["--help"], ["--version"]):
        assert not _modules_loaded_by(*argv) & (heavy | {"pydantic"}), argv
    # Typer itself reads parameters through pydantic for a group's help; the rest stays out.
    assert not _modules_loaded_by("customer", "--help") & heavy


def test_the_real_command_separates_data_and_messages(tmp_path):
    crm = shutil.which("crm", path=str(Path(sys.executable).parent))
    assert crm, "the crm console script is installed"
    env = {"PATH": "/usr/bin:/bin", "CRM_USER": "alice", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    db = str(tmp_path / "crm.sqlite3")
    added = subprocess.run(
        [crm, "--db", db, "customer", "add", "Acme", "-f", "ids"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert (added.returncode, added.stdout, added.stderr) == (0, "C-1\n", "")
    missing = subprocess.run(
        [crm, "--db", db, "customer", "show", "C-7"], env=env, capture_output=True, text=True
    )
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        4,
        "",
        "crm: error: no customer C-7\n",
    )
    version = subprocess.run(
        [sys.executable, "-m", "crm_tui", "--version"], env=env, capture_output=True, text=True
    )
    assert version.stdout.startswith("crm ")
