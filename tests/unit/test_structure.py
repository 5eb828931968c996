"""The logic layer keeps its shape: packages use each other's public names only, and no
module grows past what one reader holds in mind. (The order of the packages and the
absence of circles are import-linter contracts, checked in tests/cli/test_layers_and_startup.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "crm_tui"
LOGIC = PACKAGE / "logic"
MOST_LINES = 500


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts)


def _home(path: Path) -> str:
    """The package a file belongs to for this rule: ``logic.sales``, or ``cli``, ``screens``..."""
    parts = path.relative_to(PACKAGE).parts
    if parts[0] == "logic" and len(parts) > 2:
        return f"logic.{parts[1]}"
    return parts[0].removesuffix(".py")


def _package_of(module: str) -> str | None:
    """``crm_tui.logic.sales.deals`` -> ``logic.sales``; None outside logic's packages."""
    parts = module.split(".")
    if parts[:2] != ["crm_tui", "logic"] or len(parts) < 3:
        return None
    return f"logic.{parts[2]}"


def private_reaches(path: Path, source: str | None = None) -> list[str]:
    """Each ``_name`` of another logic package the file imports or reads as an attribute."""
    home = _home(path)
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    modules: dict[str, str] = {}  # local name -> the package of the module it names
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                target = _package_of(f"{node.module}.{alias.name}") or _package_of(node.module)
                if target is None or target == home:
                    continue
                if alias.name.startswith("_"):
                    found.append(f"{path.name}:{node.lineno} imports {node.module}.{alias.name}")
                modules[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = _package_of(alias.name)
                if target is not None and target != home and alias.asname:
                    modules[alias.asname] = target
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}")
    return found


def test_no_package_reaches_into_another_packages_private_names():
    reaches = [reach for path in _modules() for reach in private_reaches(path)]
    assert reaches == []


def test_the_rule_sees_an_import_and_an_attribute_but_not_its_own_package():
    code = "from crm_tui.logic.sales import deals\nfrom crm_tui.logic.sales.deals import _x\ndeals._close()\n"
    assert private_reaches(LOGIC / "sales" / "sample_for_the_rule.py", code) == []
    assert private_reaches(LOGIC / "exchange" / "sample_for_the_rule.py", code) == [
        "sample_for_the_rule.py:2 imports crm_tui.logic.sales.deals._x",
        "sample_for_the_rule.py:3 reads deals._close",
    ]


@pytest.mark.parametrize("path", sorted(LOGIC.rglob("*.py")), ids=lambda p: str(p.relative_to(LOGIC)))
def test_no_logic_module_is_over_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MOST_LINES, f"{path.relative_to(LOGIC)} has {lines} lines"
