"""Deal forms: a new deal (from the board or from a customer) and the edit of a deal.

The new deal's contact is one of its customer's: when the customer is picked in the
same form, the contact picker offers that customer's contacts and forgets a contact
picked for another. An edit sends only the fields changed, with the version the form
was opened on, so an edit made over someone else's newer change is refused in the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on

from crm_tui.logic.core.errors import CrmError, Invalid
from crm_tui.logic.core.schemas import validated
from crm_tui.logic.customers import contacts
from crm_tui.logic.sales import deals
from crm_tui.logic.sales.schemas import DealCreate, DealRead, DealUpdate
from crm_tui.logic.values import money
from crm_tui.logic.values.custom_fields import custom_changes, custom_lines
from crm_tui.logic.values.dates import parse_relative_day
from crm_tui.screens.widgets.choices import active_users, all_customers, contacts_of, stages_of
from crm_tui.screens.widgets.forms import CUSTOM_LABEL, Choice, Field, FormDialog, PickField

if TYPE_CHECKING:
    from crm_tui.logic.core.context import Crm

DAY_HINT = "today, tomorrow, +3d, friday or 2026-12-24"
AMOUNT_HINT = "12000 or 12000.50"
Values = dict[str, str]


def _no_customer_yet(crm: Crm, text: str) -> list[Choice]:
    """The contact picker before a customer is picked: a contact belongs to one."""
    raise Invalid("Choose the customer first: a contact is one of the customer's people.", field="contact")


def _field(name: str, check: Callable[[], Any]) -> Any:
    """``check()``, with a refusal shown beside the field ``name``."""
    try:
        return check()
    except CrmError as error:
        raise type(error)(str(error), field=name) from None


def _checked(values: Values, default_currency: str) -> tuple[str | None, str | None, Any]:
    """The currency, amount and expected close as typed, each refused beside its field."""
    typed_currency = values["currency"].strip()
    code = _field("currency", lambda: money.currency(typed_currency)) if typed_currency else None
    amount = values["amount"].strip() or None
    if amount is not None:
        _field("amount", lambda: money.to_minor(amount, code or default_currency))
    day = values["expected_close"].strip()
    close = _field("expected_close", lambda: parse_relative_day(day)) if day else None
    return code, amount, close


def _money_fields() -> list[Field]:
    return [
        Field("amount", "Amount", hint=AMOUNT_HINT),
        Field("currency", "Currency", hint="EUR, USD, CHF…"),
        Field("expected_close", "Expected close", hint=DAY_HINT),
    ]


class DealForm(FormDialog):
    """A deal's form: the contact picker follows the customer, and a new deal starts
    owned by the acting user in the default currency."""

    def __init__(self, *args: Any, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def on_mount(self) -> None:
        # Runs besides FormDialog's own (Textual calls each class's handler).
        if self.new:
            self._start_with("currency", self.crm.settings.default_currency)
            self._start_with("owner", self.crm.username)
        for contact in self.query("#field-contact").results(PickField):
            if contact.value and contact.label == contact.value:
                # The form knows the contact's reference; its name is a look-up away.
                self.call(
                    contacts.get_contact,
                    contact.value,
                    then=lambda found, field=contact: self._label(field, found.name),
                )

    @staticmethod
    def _label(field: PickField, label: str) -> None:
        field.label = label

    def _start_with(self, name: str, value: str) -> None:
        """A value the form opens with: keeping it is not a change Esc asks about."""
        if not self.initial.get(name, "x"):
            self.set_value(name, value)
            self.initial[name] = value

    @on(PickField.Changed)
    def customer_picked(self, event: PickField.Changed) -> None:
        if event.field.id != "field-customer":
            return
        contact = self.query_one("#field-contact", PickField)
        customer = event.field.value
        contact.source = contacts_of(customer) if customer else _no_customer_yet
        contact.value, contact.label = "", ""  # a contact of the customer picked before is no longer right


def deal_form(
    customer: str | None = None, pipeline: str | None = None, stage: str | None = None
) -> FormDialog:
    """The form of a new deal: for ``customer`` (else picked in the form), in ``stage``
    of ``pipeline`` (else the pipeline's first open stage, or the stage picked).

    Dismissed with the new deal's ``DealRead``, or None when cancelled.
    """
    fields = (
        [] if customer else [Field("customer", "Customer", kind="pick", source=all_customers, required=True)]
    )
    fields += [
        Field("title", "Title", required=True),
        *_money_fields(),
        Field("owner", "Owner", kind="pick", source=active_users()),
        Field(
            "contact", "Contact", kind="pick", source=contacts_of(customer) if customer else _no_customer_yet
        ),
        Field("stage", "Stage", kind="pick", source=stages_of(pipeline, kinds=("open",))),
    ]

    def save(crm: Crm, values: Values) -> DealRead:
        code, amount, close = _checked(values, crm.settings.default_currency)
        data = validated(
            DealCreate,
            {
                "customer": customer or values["customer"],
                "title": values["title"],
                "amount": amount,
                "currency": code,
                "expected_close": close,
                "owner": values["owner"] or None,
                "contact": values["contact"] or None,
                "pipeline": pipeline,
                "stage": values["stage"] or None,
            },
        )
        return deals.add_deal(crm, data)

    # The stage it starts in is named in the title, as its field may be below the fold.
    title = "New deal" + (f" for {customer}" if customer else "") + (f" in {stage}" if stage else "")
    return DealForm(title, fields, save, values={"stage": stage or ""}, new=True)


def edit_deal_form(deal: DealRead) -> FormDialog:
    """The form of ``deal``'s title, amount, currency, expected close, owner and contact.

    Only the fields changed are saved, and only if nobody changed the deal since it was
    read (a Conflict shows in the form). Dismissed with the deal as saved, or None.
    """
    fields = [
        Field("title", "Title", required=True),
        *_money_fields(),
        Field("owner", "Owner", kind="pick", source=active_users()),
        Field("contact", "Contact", kind="pick", source=contacts_of(deal.customer)),
        Field("custom", CUSTOM_LABEL, kind="lines"),
    ]
    opened = {
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
        "owner": deal.owner or "",
        "contact": deal.contact or "",
        "custom": custom_lines(deal.custom),
    }

    def save(crm: Crm, values: Values) -> DealRead:
        changed = {name: text.strip() for name, text in values.items() if text.strip() != opened[name]}
        if not changed:
            return deal  # nothing to save: the form closes as it would on Esc
        if "amount" in changed and not changed["amount"]:
            raise Invalid("Give an amount (0 if none is known yet).", field="amount")
        code, _, close = _checked({**opened, **changed}, deal.currency)
        # A cleared owner, contact or expected close is saved as none.
        update: dict[str, Any] = {name: text or None for name, text in changed.items()}
        if "currency" in changed:
            update["currency"] = code
        if "expected_close" in changed:
            update["expected_close"] = close
        if "custom" in changed:
            update["custom"] = custom_changes(opened["custom"], values["custom"])
        return deals.update_deal(crm, deal.ref, validated(DealUpdate, update), expected_version=deal.version)

    return DealForm(f"Edit {deal.ref} {deal.title}", fields, save, values=opened, new=False)
