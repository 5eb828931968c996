"""Property tests over the whole command line: any command of the tree crm's GROUPS
name, with random values for its arguments and options, run as a random user.

Whatever the values, crm answers with an exit code it documents, never 1 and never a
traceback; an error is one line on stderr; a refused run changes nothing; and what a
run stores has its audit entries.
"""

from __future__ import annotations

import enum
import importlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import typer
from hypothesis import example, given
from hypothesis import strategies as st

from crm_tui.cli import GROUPS
from tests.reliability import checks
from tests.reliability.conftest import PROPERTIES
from tests.reliability.inputs import LIKELY


@dataclass(frozen=True)
class Param:
    name: str  # the option as typed (--amount), or the argument's name
    option: bool
    kind: str  # flag, int, choice, path, date, text
    choices: tuple[str, ...] = ()
    many: bool = False  # repeatable option, or an argument taking several values
    required: bool = False


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    params: tuple[Param, ...]


def command_tree() -> list[Command]:
    """Every command crm has, from GROUPS: its words and its parameters."""
    found = []
    for name, (target, _) in GROUPS.items():
        module, _, attribute = target.partition(":")
        top = typer.main.get_command(getattr(importlib.import_module(module), attribute or "app"))
        found += list(_leaves(top, (name,)))
    return found


def _leaves(command, path: tuple[str, ...]):
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _leaves(sub, (*path, name))
        return
    yield Command(path, tuple(_param(p) for p in command.params if p.name != "help"))


def _param(p) -> Param:
    annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    many = bool(getattr(p, "multiple", False)) or getattr(p, "nargs", 1) == -1
    if getattr(annotation, "__origin__", None) is list:
        annotation = annotation.__args__[0]
    option = bool(p.opts) and p.opts[0].startswith("-")
    name = max(p.opts, key=len) if option else p.name
    if getattr(p, "is_flag", False) or annotation is bool:
        kind, choices = "flag", ()
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kind, choices = "choice", tuple(str(member.value) for member in annotation)
    elif annotation is int:
        kind, choices = "int", ()
    elif annotation is Path:
        kind, choices = "path", ()
    elif annotation in (date, datetime):
        kind, choices = "date", ()
    else:
        kind, choices = "text", ()
    return Param(name, option, kind, choices, many, bool(p.required))


COMMANDS = command_tree()

# Likely values by what a parameter is called: references of its kind, people, the
# vocabulary of stages and statuses, amounts, dates and spans, files.
REFERENCES = {
    ("customer", "keep", "other", "--customer"): ["C-1", "C-2", "c1", "2", "Acme GmbH"],
    ("contact", "--contact"): ["P-1", "1"],
    ("deal", "--deal"): ["D-1", "1"],
    ("ticket", "duplicate", "--into"): ["T-1", "T-2", "1"],
    ("order", "--order"): ["O-1", "1"],
    ("task",): ["K-1", "1"],
    ("record",): ["C-1", "D-1", "T-1", "O-1", "U-1"],
    ("sku", "--product"): ["HOST", "PR-1"],
    ("--after", "--before"): ["C-1", "D-1", "T-1", "O-1", "N-1", "2026-12-01"],
    ("position",): ["1", "2"],
}
LIKELY_BY_NAME = {name: values for names, values in REFERENCES.items() for name in names} | {
    name: ["bob", "carol", "vera", "me", "Bob Brown"]
    for name in ("username", "agent", "--owner", "--assignee", "--actor", "--agent")
} | {
    name: ["Lead", "Qualified", "Proposal", "Won", "Lost", "Demo"] for name in ("--stage", "stage", "--move-to")
} | {
    "--pipeline": ["Sales", "Sales Pipeline=Sales"], "name": ["Demo", "Sales", "Hosting", "Partners"],
    "--status": ["open", "won", "lost", "new", "pending", "resolved", "closed", "all", "draft", "paid"],
    "new_status": ["open", "pending", "resolved", "closed"], "--kind": ["customer", "deal", "won", "lost"],
    "--sort": ["updated", "amount", "close", "name"], "entity": ["customers", "deals", "contacts"],
    "--date-order": ["dmy", "mdy"], "--on-duplicate": ["skip", "update", "merge"],
    "--role": ["sales", "service", "viewer"], "--name": ["Bob Brown", "Partners"],
    "--reason": ["Went elsewhere"], "--resolution": ["Credit note sent", "4h", "2d"],
    "--first-response": ["30m", "1h"], "--due-within": ["2h", "1d"], "--currency": ["EUR", "USD"],
    "--country": ["DE", "FR"], "--format": ["json", "csv", "vcard"],
    "--amount": ["12", "12.50", "0", "100"], "--price": ["10", "49.90"], "--tax": ["19", "7", "0"],
    "--discount": ["10", "0"], "--quantity": ["1", "12"], "--probability": ["40", "0", "100"],
    "--position": ["1", "2"], "score": ["1", "5"],
    **{name: ["2026-12-01", "tomorrow", "+3d", "friday"] for name in ("--due", "--close", "--at", "--from", "--to")},
    **{name: ["vat=DE123", "vat=", "Company Name=name", "HOST:2"] for name in ("--field", "--map", "--line")},
    "--limit": ["1", "5", "50"], "--keep": ["1", "3"], "--expected-version": ["1", "2"],
    **{name: ["data.csv", "ids.csv", "lines.jsonl", "contacts.vcf", "backups", "backups/latest.sqlite3.zst", "missing.csv",
              "out", "new/deeper", "folder", "."] for name in ("file", "folder", "--dir", "--out", "--rejects")},
    "--identity": ["missing.key", "data.csv"], "--encrypt-to": ["age1bogus"], "--encoding": ["utf-8", "cp1252"],
}  # fmt: skip
# In a wild run, besides anything at all: values that broke programs like this one.
AWKWARD = ["1e309", "-1e309", "9223372036854775807", "92233720368547758.07", "99999999999999999999", "-1",
           "0", "NaN", "inf", "1,5", "2026-02-30", "-3h", "99999999h", "0m", "XXX", "C-0", "C-99999999999999999999",
           "N-1", "PR-1", "U-2", "-", "", "..", "/", "bogus"]  # fmt: skip
anything = st.one_of(
    st.sampled_from(LIKELY), st.sampled_from(AWKWARD), st.text(max_size=20), st.integers().map(str)
)


def _values(command: Command, param: Param, wild: bool) -> st.SearchStrategy[str]:
    """Values for ``param``: those its name suggests, and (``wild``) anything at all."""
    if _reads_lines(command, param):  # a file of JSON lines, standard input (empty), or none
        return st.sampled_from(["lines.jsonl", "-", "missing.jsonl", "data.csv"])
    if param.kind == "choice":
        likely = st.sampled_from(param.choices)
    elif param.kind == "int" and param.name not in LIKELY_BY_NAME:
        likely = st.integers(1, 12).map(str)
    else:
        names = LIKELY_BY_NAME.get(param.name, ["Acme GmbH", "x", "Zoë Müller", "note text"])
        if command.path[0] == "user":
            names = [name for name in names if name != "me"]  # alice stays an admin
        likely = st.sampled_from(names)
    return st.one_of(likely, likely, anything) if wild else likely


def _reads_lines(command: Command, param: Param) -> bool:
    """Whether ``param`` is an add command's --from (report's --from is a date)."""
    return param.name == "--from" and command.path[-1] == "add"


def _inside(value: str) -> str:
    """A value that names no file outside the test's folder: no absolute or home paths, no '..'."""
    value = value.replace("..", "._")
    return "./" + value.lstrip("/~") if value.startswith(("/", "~")) else value


@st.composite
def command_lines(draw) -> list[str]:
    """A command with values for some of its parameters: likely ones (so that many runs
    do something), or in a wild run anything at all."""
    command = draw(st.sampled_from(COMMANDS))
    wild = draw(st.booleans())
    # `add --from FILE` takes whole records from the file: no other values of a record.
    from_file = any(_reads_lines(command, p) for p in command.params) and draw(st.integers(0, 4)) == 0
    args = list(command.path)
    for param in command.params:
        if param.kind == "flag":
            if draw(st.integers(0, 3)) == 0:
                args.append(param.name)
            continue
        if wild:
            present = param.required or draw(st.integers(0, 2)) == 0
        elif from_file:
            present = param.name in ("--from", "--format")
        else:  # arguments (optional only beside --from), required options and a few others
            present = not _reads_lines(command, param) and (
                param.required or not param.option or draw(st.integers(0, 4)) == 0
            )
        if not present:
            continue
        values = _values(command, param, wild)
        for value in draw(st.lists(values, min_size=1, max_size=3 if param.many else 1)):
            args += [param.name, _inside(value)] if param.option else [_inside(value)]
    if wild and draw(st.integers(0, 9)) == 0:  # something crm does not know
        args.insert(
            draw(st.integers(len(command.path), len(args))), draw(st.sampled_from(["--bogus", "extra"]))
        )
    return args


@pytest.fixture
def workplace(cli, tmp_path, monkeypatch):
    """A team, a record of each kind, and the files commands may be pointed at."""
    monkeypatch.chdir(tmp_path)
    for line in (
        ["user", "add", "bob", "--role", "sales"], ["user", "add", "carol", "--role", "service"],
        ["user", "add", "vera", "--role", "viewer"],
        ["customer", "add", "Acme GmbH", "--email", "hello@acme.example"], ["customer", "add", "Beta Ltd"],
        ["contact", "add", "C-1", "Jo Lee"], ["note", "add", "C-1", "Called"],
        ["task", "add", "Call back", "--customer", "C-1"], ["deal", "add", "C-1", "Relaunch", "--amount", "100"],
        ["ticket", "add", "C-1", "Broken invoice", "--contact", "P-1"], ["product", "add", "HOST", "Hosting", "--price", "10"],
        ["order", "add", "C-1", "--line", "HOST:2"], ["pipeline", "add", "Ñorth"],
        ["backup", "create", "--dir", "backups"],
    ):  # fmt: skip
        result = cli(*line)
        assert result.exit_code == 0, (line, result.stderr)
    backups = sorted((tmp_path / "backups").glob("*.zst"))
    backups[-1].rename(tmp_path / "backups" / "latest.sqlite3.zst")
    backups[-1].with_name(backups[-1].name + ".json").rename(tmp_path / "backups" / "latest.sqlite3.zst.json")
    (tmp_path / "data.csv").write_text("Company Name,Email\nGamma AG,info@gamma.example\n", encoding="utf-8")
    (tmp_path / "lines.jsonl").write_text(
        "\n".join(
            json.dumps(line)
            for line in (
                {"name": "Delta Inc", "customer": "C-1", "title": "From lines", "subject": "From lines"},
                {"body": "note", "customer": "C-2", "username": "dora", "sku": "X1", "price": "1"},
                {"name": ""},
            )
        )
        + "\nnot json\n",
        encoding="utf-8",
    )
    (tmp_path / "contacts.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kim Park\r\nORG:Acme GmbH\r\nEND:VCARD\r\n", encoding="utf-8"
    )
    (tmp_path / "ids.csv").write_text("Name,Company\nKim Park,C-2147483648\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()


@pytest.fixture
def database(db_url):
    engine = checks.engine_for(db_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def test_the_tree_has_every_command_and_knows_its_parameters():
    assert {command.path[0] for command in COMMANDS} == set(GROUPS)
    assert len(COMMANDS) > 80
    adding = {p.name: p for c in COMMANDS if c.path == ("customer", "add") for p in c.params}
    assert adding["--stage"].kind == "choice" and "lead" in adding["--stage"].choices
    assert (adding["--force"].kind, adding["--tag"].many, adding["name"].option) == ("flag", True, False)
    listing = {p.name: p for c in COMMANDS if c.path == ("customer", "list") for p in c.params}
    assert listing["--limit"].kind == "int"


@PROPERTIES
@given(args=command_lines(), user=st.sampled_from(["alice"] * 6 + ["bob", "carol", "vera", "nobody"]))
# Lines that once ended in "unexpected ..." (issue 12), and an id beyond PostgreSQL's integer.
@example(args=["deal", "add", "C-1", "X", "--amount", "1e309"], user="alice")
@example(args=["customer", "list", "--limit", "99999999999999999999"], user="alice")
@example(args=["ticket", "list", "--status", "bogus"], user="alice")
@example(args=["deal", "win", "2147483648"], user="alice")
@example(args=["audit", "list", "D-2147483648"], user="alice")
@example(args=["customer", "list", "--after", "C-2147483648"], user="alice")
@example(args=["customer", "merge", "C-1", "C-2147483648"], user="alice")
@example(args=["import", "contacts", "ids.csv"], user="alice")
@example(args=["contact", "remove", "P-1"], user="alice")  # T-1's contact
@example(args=["pipeline", "add", "Ñorth"], user="alice")  # SQLite's lower() leaves Ñ as it is
@example(args=["import", "deals", "data.csv", "--encoding", "\x00"], user="alice")
@example(args=["customer", "add", "--from", "a\x00b"], user="alice")
@example(args=["import", "contacts", "ids.csv", "--rejects", "folder"], user="alice")
def test_any_command_line_is_done_or_refused_cleanly(cli, workplace, database, figures, args, user):
    before = checks.table_counts(database)

    result = cli(*args, user=user)
    figures["examples tried: command lines"] += 1

    assert result.exit_code != 1, result.stderr
    assert result.exit_code in (0, 2, 3, 4, 5, 6, 7, 8, 9), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    after = checks.table_counts(database)
    if result.exit_code not in (0, 9):
        assert result.stderr.startswith("crm: error: "), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert after == before, f"refused (exit {result.exit_code}), yet stored: {result.stderr}"
    elif "--dry-run" in args:
        assert after == before
    if after != before:
        assert not checks.audit_trail(database)
