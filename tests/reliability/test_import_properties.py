"""Property tests over `crm import customers|contacts|deals|tickets FILE`: files with
random headers (the spellings other tools use, and anything else), cells, quoting,
delimiters, line ends and encodings, imported with random options.

Whatever the file, crm answers with an exit code it documents, never 1 and never a
traceback; a refused run (and a dry run) changes nothing; what a run says it created
is what it stored, and every record stored has its audit entry.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_tui.logic.exchange.headers import HEADERS
from tests.reliability import checks
from tests.reliability.conftest import PROPERTIES
from tests.reliability.inputs import LIKELY

TABLE = {"customers": "customers", "contacts": "contacts", "deals": "deals", "tickets": "tickets"}
SPELLINGS = {
    kind: sorted({word for spellings in fields.values() for word in spellings.split()})
    for kind, fields in HEADERS.items()
}
NEEDED = {"customers": ["name"], "contacts": ["name", "customer"], "deals": ["title", "customer"],
          "tickets": ["subject", "customer"]}  # fmt: skip
SUMMARY = re.compile(
    r"(?:would import|imported) (\d+) \w+ from (\d+) \w+: (\d+) updated, (\d+) duplicates skipped, (\d+) refused"
)

cells = st.one_of(
    st.sampled_from(LIKELY),
    st.text(max_size=30),
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from([1_000, 100_000]).map(lambda n: "x" * n),
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]


@st.composite
def import_runs(draw, create_customers: bool = False) -> tuple[str, bytes, list[str]]:
    """(kind, the file's bytes, the options); ``create_customers``: an import of
    contacts, deals or tickets with --create-customers."""
    kind = draw(st.sampled_from(["contacts", "deals", "tickets"] if create_customers else list(HEADERS)))
    spelled = st.sampled_from(SPELLINGS[kind]).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.title(), f" {word} "])
    )
    header = draw(st.lists(st.one_of(spelled, spelled, st.text(max_size=12)), max_size=8))
    if draw(st.booleans()):  # the columns a row needs, so that rows get as far as the database
        for field in NEEDED[kind]:
            header.insert(
                draw(st.integers(0, len(header))), draw(st.sampled_from(HEADERS[kind][field].split()))
            )
    rows = draw(st.lists(st.lists(cells, max_size=len(header) + 2), max_size=6))
    text = _written(draw, [header, *rows])
    encoding = draw(st.sampled_from(ENCODINGS))
    content = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        content = content[: draw(st.integers(0, len(content)))] + draw(st.binary(max_size=8))

    args = [*_options(draw, kind, header), *(["--create-customers"] if create_customers else [])]
    given_encoding = draw(
        st.sampled_from([None, None, encoding, "utf-8", "cp1252", "utf-16", "ascii", "klingon"])
    )
    if given_encoding is not None:
        args += ["--encoding", given_encoding]
    if draw(st.booleans()):
        args.append("--dry-run")
    return kind, content, args


def _written(draw, table: list[list[str]]) -> str:
    """The rows as a CSV file in one of the shapes files come in, some of them broken."""
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    shape = draw(st.sampled_from(["minimal", "all", "semicolon", "tab", "raw"]))
    if shape == "raw":  # no quoting at all: embedded commas, quotes and line ends break rows
        return line_end.join(",".join(row) for row in table) + draw(st.sampled_from(["", line_end]))
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter={"semicolon": ";", "tab": "\t"}.get(shape, ","),
        quoting=csv.QUOTE_ALL if shape == "all" else csv.QUOTE_MINIMAL,
        lineterminator=line_end,
    )
    writer.writerows(table)
    return out.getvalue()


def _options(draw, kind: str, header: list[str]):
    if kind in ("customers", "contacts") and draw(st.booleans()):
        yield from ("--on-duplicate", draw(st.sampled_from(["skip", "update", "merge", "bogus"])))
    if kind != "contacts" and draw(st.booleans()):
        yield "--create-users"
    if kind in ("deals", "tickets") and draw(st.booleans()):
        yield from ("--date-order", draw(st.sampled_from(["dmy", "mdy", "ymd", ""])))
    if kind == "deals" and draw(st.booleans()):
        yield from ("--lost-reason", draw(cells))
    if kind == "deals" and draw(st.booleans()):
        yield from (draw(st.sampled_from(["--pipeline", "--stage"])), f"{draw(cells)}={draw(cells)}")
    if kind == "tickets" and draw(st.booleans()):
        yield from ("--resolution", draw(cells))
    for _ in range(draw(st.integers(0, 2))):
        column = draw(st.sampled_from(header) if header and draw(st.booleans()) else st.text(max_size=10))
        field = draw(st.sampled_from(sorted(HEADERS[kind])) | st.text(max_size=8))
        yield from ("--map", f"{column}={field}")


@pytest.fixture
def team(cli):
    """A customer and a viewer to import against."""
    assert cli("customer", "add", "Acme GmbH", "--email", "hello@acme.example").exit_code == 0
    assert cli("user", "add", "vera", "--role", "viewer").exit_code == 0


@pytest.fixture
def database(db_url):
    """One connection to the test's database for the checks of every example."""
    engine = checks.engine_for(db_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def imported_or_refused_cleanly(cli, database, figures, tmp_path, run, user) -> None:
    """Import the file as ``user``; what must hold of any run."""
    kind, content, args = run
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    before = checks.table_counts(database)

    result = cli("import", kind, str(path), *args, user=user)
    figures["examples tried: CSV imports"] += 1

    assert result.exit_code != 1, result.stderr
    assert result.exit_code in (0, 2, 3, 4, 7, 8, 9), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    after = checks.table_counts(database)
    summary = SUMMARY.search(result.stderr)
    if result.exit_code not in (0, 9):
        assert result.stderr.startswith("crm: error: "), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert after == before, f"refused (exit {result.exit_code}), yet stored: {result.stderr}"
    else:
        assert summary, result.stderr
        created, _, updated = (int(summary.group(n)) for n in (1, 2, 3))
        if "--dry-run" in args or created == updated == 0:
            assert after == before, f"nothing imported, yet something stored: {result.stderr}"
        else:
            assert after[TABLE[kind]] - before[TABLE[kind]] == created, result.stderr
            assert not checks.audit_trail(database)


USERS = st.sampled_from(["alice"] * 9 + ["vera"])


@PROPERTIES
@given(run=import_runs(), user=USERS)
@example(run=("customers", b'""\n', ["--encoding", "utf-16"]), user="alice")  # no byte order mark
def test_any_csv_file_is_imported_or_refused_cleanly(
    cli, team, database, figures, tmp_path, monkeypatch, run, user
):
    monkeypatch.chdir(tmp_path)
    imported_or_refused_cleanly(cli, database, figures, tmp_path, run, user)


@settings(PROPERTIES, max_examples=min(PROPERTIES.max_examples, 300))
@given(run=import_runs(create_customers=True), user=USERS)
@example(
    run=("deals", b"Deal Name,Company Name,Contact\nBig,Newco Ltd,nobody\n", ["--create-customers"]),
    user="alice",
)
def test_any_csv_file_with_create_customers_is_imported_or_refused_cleanly(
    cli, team, database, figures, tmp_path, monkeypatch, run, user
):
    monkeypatch.chdir(tmp_path)
    imported_or_refused_cleanly(cli, database, figures, tmp_path, run, user)
