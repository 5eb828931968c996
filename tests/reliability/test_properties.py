"""Property tests: whatever a user or a file throws at crm ends in a clear answer."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_tui.logic.core.errors import CrmError, Invalid
from crm_tui.logic.core.refs import parse_ref, ref
from crm_tui.logic.values.normalise import clean_email, clean_phone, clean_tag, fold, name_key

PROFILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
customer_like = st.fixed_dictionaries(
    {"name": st.text(max_size=40)},
    optional={
        "email": st.text(max_size=30) | st.emails(),
        "phone": st.text(alphabet="0123456789 +()-x", max_size=20),
        "tags": st.lists(st.text(max_size=12), max_size=3),
        "lifecycle": st.sampled_from(["lead", "customer", "bogus"]),
        "country": st.text(max_size=3),
        "custom": st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=2),
    },
)
lines = st.one_of(customer_like.map(json.dumps), json_values.map(json.dumps), st.text(max_size=40))


@PROFILE
@given(batch=st.lists(lines, min_size=1, max_size=8))
def test_any_from_file_is_either_stored_whole_or_reported(cli, crm, counts, tmp_path, batch):
    before = counts()
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(line.replace("\n", " ").replace("\r", " ") for line in batch) + "\n",
        encoding="utf-8",
    )
    result = cli("customer", "add", "--from", str(path), "--force", "-f", "jsonl")
    assert result.exit_code in (0, 9), result.stderr
    assert "Traceback" not in result.stderr
    created = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [line for line in result.stderr.splitlines() if line.startswith("crm: error: line ")]
    after = counts()
    assert after["customers"] - before["customers"] == len(created)
    assert after["audit_entries"] - before["audit_entries"] == len(created)
    assert len(created) + len(failed) == sum(1 for line in batch if line.strip())
    assert (result.exit_code == 9) == bool(failed)


@given(st.text(max_size=20))
def test_references_parse_or_refuse_clearly(text):
    try:
        record_id = parse_ref("customer", text)
    except Invalid as exc:
        assert str(exc)
    else:
        assert record_id >= 1
        assert parse_ref("customer", ref("customer", record_id)) == record_id


@given(st.integers(min_value=1, max_value=10**15))
def test_every_id_survives_its_reference(record_id):
    for kind in ("customer", "contact", "task"):
        assert parse_ref(kind, ref(kind, record_id)) == record_id


@given(st.text(max_size=60))
def test_cleaners_return_a_value_or_say_why(text):
    for cleaner in (clean_email, lambda t: clean_phone(t, "DE"), clean_tag):
        try:
            cleaner(text)
        except CrmError as exc:
            assert str(exc)


@given(st.text(max_size=60))
def test_name_keys_are_stable(text):
    assert fold(fold(text)) == fold(text)
    assert name_key(text.upper(), company=True) == name_key(text.lower(), company=True) or not text.isascii()


def test_letters_without_a_decomposition_still_match_their_plain_spelling():
    assert fold("Søren Ødegaard") == fold("Soren Odegaard") == "soren odegaard"
    assert fold("Yılmaz") == fold("YILMAZ") == "yilmaz"
    assert fold("Łódź Æble") == "lodz aeble"
