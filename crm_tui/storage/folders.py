"""The folders crm makes for its files: its owner's only (0700), however many it makes.

``Path.mkdir(parents=True, mode=0o700)`` gives the mode to the last folder only; the
parents it makes get the umask's (0755 as a rule). The data folder was made that way
whenever a backup or a restore's safety copy made ``backups`` in it first, and so was
readable by everyone. Every folder crm makes for databases, backups and exports is made
here instead.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(folder: Path, *, tighten: bool = False) -> list[Path]:
    """Make ``folder`` and each missing parent mode 0700; return those made, outermost
    first. ``tighten`` also sets an existing ``folder`` of this user's to 0700 (for the
    folders crm chooses itself, never for one a user named)."""
    missing = []
    current = folder
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            if not path.is_dir():
                raise
        else:
            made.append(path)
    if tighten and not made and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)
    return made


def remove_made(made: list[Path]) -> None:
    """Remove the folders ``private_folder`` made, innermost first, if they are still empty."""
    for path in reversed(made):
        try:
            path.rmdir()
        except OSError:
            return
