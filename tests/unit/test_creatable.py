"""Logic, not the front end, says which records `--from` makes and what each needs."""

from __future__ import annotations

import json

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.access import PERMISSIONS
from crm_tui.logic.core.errors import Forbidden, Invalid
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.exchange.batch import CREATABLE, creatable, create_many


@pytest.mark.parametrize("kind", sorted(CREATABLE))
def test_every_kind_names_a_real_permission_and_an_input_model(kind):
    making = creatable(kind)
    assert making.permission in PERMISSIONS
    assert making.noun.endswith("s")
    assert making.model.model_config.get("extra") == "forbid"


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(Invalid, match="choose customer, contact"):
        creatable("invoice")


def test_the_kinds_permission_is_enforced_and_nothing_is_stored(crm, as_user, counts):
    users.add_user(crm, UserCreate(username="vic", role="viewer"))
    before = counts()
    lines = [json.dumps({"name": "Acme"})]
    with pytest.raises(Forbidden, match=r"vic \(viewer\) may not do this"):
        list(create_many(as_user("vic"), "customer", lines))
    assert counts() == before


def test_lines_become_records_of_the_kind_asked_for(crm):
    outcomes = list(create_many(crm, "customer", [json.dumps({"name": "Acme"}), "", "not json"]))
    assert [(o.line, o.error is None) for o in outcomes] == [(1, True), (3, False)]
    assert outcomes[0].record.ref == "C-1"
