"""Deals and pipelines: every rule, and each bad input refused with nothing changed."""

from __future__ import annotations

import json

import pytest

from crm_tui.logic.core import users
from crm_tui.logic.core.errors import Conflict, Duplicate, Forbidden, Invalid, NotFound
from crm_tui.logic.core.schemas import UserCreate
from crm_tui.logic.customers import customers
from crm_tui.logic.customers.schemas import CustomerCreate
from crm_tui.logic.reports import audit_trail
from crm_tui.logic.sales import deals, pipelines
from crm_tui.logic.sales.schemas import DealCreate, DealUpdate


@pytest.fixture
def acme(crm):
    return customers.add_customer(crm, CustomerCreate(name="Acme")).ref


def open_deal(crm, customer, title="Website", amount="1000", **more):
    return deals.add_deal(crm, DealCreate(customer=customer, title=title, amount=amount, **more))


def test_a_new_deal_starts_in_the_first_open_stage_of_the_default_pipeline(crm, acme):
    deal = open_deal(crm, acme, amount="12000.50", currency="usd")
    assert (deal.pipeline, deal.stage, deal.status, deal.probability) == (
        "Sales",
        "Lead",
        "open",
        10,
    )
    assert (deal.amount_minor, deal.amount, deal.currency) == (1200050, "12000.50", "USD")
    assert deal.weighted_minor == 120005
    assert deal.owner == "alice"


def test_every_stage_change_is_kept_with_time_and_actor(crm, acme, as_user):
    users.add_user(crm, UserCreate(username="bob", role="sales"))
    deal = open_deal(crm, acme)
    deals.move_deal(crm, deal.ref, "qualified")
    deals.move_deal(as_user("bob"), deal.ref, "Proposal")
    deals.lose_deal(crm, deal.ref, "budget cut")
    deals.reopen_deal(crm, deal.ref)
    history = deals.deal_detail(crm, deal.ref).history
    assert [(h.from_stage, h.to_stage, h.actor) for h in history] == [
        (None, "Lead", "alice"),
        ("Lead", "Qualified", "alice"),
        ("Qualified", "Proposal", "bob"),
        ("Proposal", "Lost", "alice"),
        ("Lost", "Proposal", "alice"),  # reopened into the last open stage
    ]
    assert [h.at for h in history] == sorted(h.at for h in history)


def test_win_closes_and_logs_on_the_customer_timeline(crm, acme):
    from crm_tui.logic.customers import timeline

    deal = open_deal(crm, acme)
    won, order = deals.win_deal(crm, deal.ref)
    assert (won.status, won.stage, order) == ("won", "Won", None)
    assert won.closed_at is not None
    assert timeline.timeline(crm, acme)[0].body == "Won D-1 Website (1,000.00 EUR)"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda crm, ref: deals.lose_deal(crm, ref, "   "), "a lost reason is required"),
        (lambda crm, ref: deals.move_deal(crm, ref, "Won"), "use `crm deal win D-1`"),
        (lambda crm, ref: deals.move_deal(crm, ref, "Lead"), "already in Lead"),
        (lambda crm, ref: deals.move_deal(crm, ref, "Nowhere"), "has no stage 'Nowhere'"),
        (lambda crm, ref: deals.reopen_deal(crm, ref), "already open"),
        (
            lambda crm, ref: deals.update_deal(crm, ref, DealUpdate(amount="-5")),
            "must not be negative",
        ),
        (
            lambda crm, ref: deals.update_deal(crm, ref, DealUpdate(currency="XYZ")),
            "invalid currency 'XYZ'",
        ),
        (
            lambda crm, ref: deals.update_deal(crm, ref, DealUpdate(currency="JPY", amount="10.5")),
            "more than 0 decimal places",
        ),
        (
            lambda crm, ref: deals.update_deal(crm, ref, DealUpdate(title=" ")),
            "title must not be empty",
        ),
        (lambda crm, ref: deals.update_deal(crm, ref, DealUpdate(contact="P-9")), "no contact P-9"),
    ],
)
def test_bad_steps_are_refused_and_change_nothing(crm, acme, counts, step, message):
    deal = open_deal(crm, acme)
    before = counts()
    with pytest.raises((Invalid, NotFound), match=message):
        step(crm, deal.ref)
    assert counts() == before
    assert deals.get_deal(crm, deal.ref) == deal


def test_a_move_to_a_stage_of_another_pipeline_is_named_as_such(crm, acme):
    pipelines.add_pipeline(crm, "Renewals")
    pipelines.add_stage(crm, "Renewals", "Contract sent", probability=60)
    deal = open_deal(crm, acme)
    with pytest.raises(
        Invalid, match="stage Contract sent belongs to pipeline Renewals; D-1 is in pipeline Sales"
    ):
        deals.move_deal(crm, deal.ref, "Contract sent")


def test_archived_deals_change_nothing_until_restored(crm, acme):
    deal = open_deal(crm, acme)
    deals.archive_deal(crm, deal.ref)
    with pytest.raises(Invalid, match="D-1 is archived; restore it first"):
        deals.win_deal(crm, deal.ref)
    assert deals.list_deals(crm).deals == []
    deals.restore_deal(crm, deal.ref)
    assert deals.win_deal(crm, deal.ref)[0].status == "won"


def test_closed_deals_must_be_reopened_first(crm, acme):
    deal = open_deal(crm, acme)
    deals.lose_deal(crm, deal.ref, "too expensive")
    with pytest.raises(Invalid, match="D-1 is lost; reopen it first"):
        deals.win_deal(crm, deal.ref)
    with pytest.raises(Invalid, match="D-1 is already lost"):
        deals.lose_deal(crm, deal.ref, "again")
    with pytest.raises(Invalid, match="reopen it to move it"):
        deals.move_deal(crm, deal.ref, "Proposal")
    reopened = deals.reopen_deal(crm, deal.ref, "Negotiation")
    assert (reopened.status, reopened.stage, reopened.lost_reason, reopened.closed_at) == (
        "open",
        "Negotiation",
        None,
        None,
    )


def test_deals_need_an_active_customer_and_their_own_contact(crm, acme):
    from crm_tui.logic.customers import contacts
    from crm_tui.logic.customers.schemas import ContactCreate

    other = customers.add_customer(crm, CustomerCreate(name="Other")).ref
    stranger = contacts.add_contact(crm, ContactCreate(customer=other, name="Stranger")).ref
    with pytest.raises(Invalid, match=f"{stranger} is not a contact of {acme}"):
        open_deal(crm, acme, contact=stranger)
    customers.archive_customer(crm, other)
    with pytest.raises(Invalid, match="archived"):
        open_deal(crm, other)
    with pytest.raises(Invalid, match="starts in an open stage"):
        open_deal(crm, acme, stage="Won")


def test_service_staff_may_read_deals_but_not_change_them(crm, acme, as_user):
    users.add_user(crm, UserCreate(username="sue", role="service"))
    deal = open_deal(crm, acme)
    sue = as_user("sue")
    assert deals.get_deal(sue, deal.ref).title == "Website"
    with pytest.raises(Forbidden):
        deals.move_deal(sue, deal.ref, "Proposal")


def test_a_stale_deal_edit_is_refused(crm, acme):
    deal = open_deal(crm, acme)
    deals.move_deal(crm, deal.ref, "Proposal", expected_version=deal.version)
    with pytest.raises(Conflict, match="D-1 was changed by alice"):
        deals.update_deal(crm, deal.ref, DealUpdate(amount="5"), expected_version=deal.version)


def test_currency_change_alone_keeps_the_amount(crm, acme):
    deal = open_deal(crm, acme, amount="1500")
    assert deals.update_deal(crm, deal.ref, DealUpdate(currency="JPY")).amount_minor == 1500
    assert deals.update_deal(crm, deal.ref, DealUpdate(currency="BHD")).amount_minor == 1500000


def test_lists_filter_and_page(crm, acme):
    for n in range(7):
        open_deal(crm, acme, title=f"Deal {n}", amount=str(100 * n))
    deals.lose_deal(crm, "D-3", "no")
    assert [d.ref for d in deals.list_deals(crm, status="lost").deals] == ["D-3"]
    seen, after = [], None
    while True:
        page = deals.list_deals(crm, sort="amount", descending=False, limit=3, after=after)
        seen += [d.amount_minor for d in page.deals]
        if not page.next_after:
            break
        after = page.next_after
    assert seen == [0, 10000, 20000, 30000, 40000, 50000, 60000]
    assert [d.title for d in deals.list_deals(crm, text="deal 5").deals] == ["Deal 5"]


# Pipelines


def test_the_default_pipeline(crm):
    pipeline = pipelines.get_pipeline(crm)
    assert pipeline.is_default
    assert [(s.name, s.probability, s.kind) for s in pipeline.stages] == pipelines.DEFAULT_STAGES


def test_stages_are_added_renamed_reordered_and_given_probabilities(crm):
    pipelines.add_stage(crm, None, "Demo", probability=40)
    names = [s.name for s in pipelines.get_pipeline(crm).stages]
    assert names[3:6] == ["Negotiation", "Demo", "Won"]  # after the open stages, before the closed
    pipelines.change_stage(crm, None, "demo", name="Live demo", probability=45, position=2)
    stages = pipelines.get_pipeline(crm).stages
    assert [(s.name, s.position, s.probability) for s in stages[:3]] == [
        ("Lead", 1, 10), ("Live demo", 2, 45), ("Qualified", 3, 25),
    ]  # fmt: skip
    with pytest.raises(Duplicate):
        pipelines.add_stage(crm, None, "lead")
    with pytest.raises(Invalid, match="between 0 and 100"):
        pipelines.add_stage(crm, None, "Odd", probability=120)


def test_a_stage_with_deals_is_removed_only_by_moving_them(crm, acme):
    open_deal(crm, acme, stage="Qualified")
    with pytest.raises(Invalid, match="holds 1 deal"):
        pipelines.remove_stage(crm, None, "Qualified")
    with pytest.raises(Invalid, match="only move to another open stage"):
        pipelines.remove_stage(crm, None, "Qualified", move_to="Won")
    pipelines.remove_stage(crm, None, "Qualified", move_to="Proposal")
    assert deals.get_deal(crm, "D-1").stage == "Proposal"
    assert "Qualified" not in [s.name for s in pipelines.get_pipeline(crm).stages]
    history = deals.deal_detail(crm, "D-1").history
    assert [(h.from_stage, h.to_stage) for h in history] == [
        (None, "Qualified"),
        ("Qualified", "Proposal"),
    ]
    pipelines.add_stage(crm, None, "Qualified")  # the name is free again


def test_a_pipeline_keeps_one_stage_of_each_kind(crm):
    with pytest.raises(Invalid, match="needs at least one won stage"):
        pipelines.remove_stage(crm, None, "Won")
    with pytest.raises(Invalid, match="needs at least one lost stage"):
        pipelines.change_stage(crm, None, "Lost", kind="open")


def test_a_stage_holding_deals_keeps_its_kind(crm, acme):
    open_deal(crm, acme, stage="Proposal")
    with pytest.raises(Invalid, match="holds deals"):
        pipelines.change_stage(crm, None, "Proposal", kind="won")


def test_new_pipelines_and_the_default(crm, acme):
    pipelines.add_pipeline(crm, "Renewals")
    pipelines.set_default(crm, "renewals")
    assert open_deal(crm, acme).pipeline == "Renewals"
    assert [p.is_default for p in pipelines.list_pipelines(crm)] == [True, False]


def test_only_managers_and_admins_shape_pipelines(crm, as_user):
    users.add_user(crm, UserCreate(username="sam", role="sales"))
    with pytest.raises(Forbidden):
        pipelines.add_stage(as_user("sam"), None, "Demo")


# CLI


def test_cli_deal_flow_and_exit_codes(cli, crm, acme, counts):
    assert cli("deal", "add", acme, "Website", "--amount", "12000", "--close", "2026-12-31").exit_code == 0
    assert cli("deal", "move", "D-1", "proposal").exit_code == 0
    before = counts()
    lost = cli("deal", "lose", "D-1", "--reason", "")
    assert (lost.exit_code, lost.stderr) == (
        3,
        "crm: error: say why D-1 was lost: a lost reason is required\n",
    )
    negative = cli("deal", "add", acme, "Bad", "--amount", "-1")
    assert (negative.exit_code, negative.stderr) == (3, "crm: error: amount must not be negative\n")
    assert counts() == before
    won = cli("deal", "win", "D-1", "--order", "-f", "json")
    assert won.exit_code == 0 and json.loads(won.stdout)["status"] == "won"
    shown = json.loads(cli("deal", "show", "D-1", "-f", "json").stdout)
    assert shown["orders"] == ["O-1"]
    assert [h["to_stage"] for h in shown["history"]] == ["Lead", "Proposal", "Won"]
    assert [e.action for e in audit_trail.list_entries(crm, record="D-1", limit=10)] == [
        "win",
        "move",
        "create",
    ]


def test_cli_deal_add_from_reports_bad_lines(cli, crm, acme, tmp_path):
    path = tmp_path / "deals.jsonl"
    path.write_text(
        json.dumps({"customer": acme, "title": "Good", "amount": "10"}) + "\n"
        + json.dumps({"customer": acme, "title": "Float", "amount": 10.5}) + "\n"
        + json.dumps({"customer": "C-99", "title": "Ghost"}) + "\n"
    )  # fmt: skip
    result = cli("deal", "add", "--from", str(path), "-f", "ids")
    assert result.exit_code == 9
    assert result.stdout == "D-1\n"
    assert "line 2: amount" in result.stderr and "line 3: no customer C-99" in result.stderr
