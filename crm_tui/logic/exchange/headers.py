"""Which column of a file feeds which field: the header names other tools use.

Headers are compared folded (lower case, letters and digits only), so "E-mail Address",
"email address" and "EmailAddress" are one name; ``--map COLUMN=FIELD`` overrides.
"""

from __future__ import annotations

import re
from typing import Any

from crm_tui.logic.core.errors import Invalid, quoted
from crm_tui.logic.values.custom_fields import NAME_LIMIT

# field: header spellings (folded: lower case, letters and digits only)
_CUSTOMER_HEADERS = {
    "name": "name companyname company accountname organization organisation organizationname "
    "customer customername businessname account",
    "first_name": "firstname givenname forename",
    "last_name": "lastname surname familyname",
    "kind": "kind type customertype",
    "lifecycle": "lifecycle lifecyclestage stage customerstage",
    "segment": "segment tier",
    "owner": "owner accountowner contactowner companyowner assignedto salesrep ownername",
    "email": "email emailaddress mail email1 primaryemail workemail",
    "phone": "phone phonenumber telephone tel businessphone workphone primaryphone mainphone",
    "website": "website web url homepage websiteurl companywebsite",
    "street": "street address streetaddress address1 addressline1 billingstreet mailingstreet",
    "city": "city town billingcity mailingcity",
    "postcode": "postcode postalcode zip zipcode billingzippostalcode billingpostalcode mailingzip",
    "country": "country countrycode billingcountry mailingcountry countryregion",
    "industry": "industry sector",
    "source": "source leadsource origin",
    "tags": "tags labels tag",
}
_CONTACT_HEADERS = {
    "name": "name fullname contactname displayname",
    "first_name": "firstname givenname forename",
    "last_name": "lastname surname familyname",
    "customer": "customer company companyname account accountname organization organisation "
    "organizationname employer",
    "title": "title jobtitle position role",
    "email": "email emailaddress mail email1 primaryemail workemail",
    "phone": "phone phonenumber telephone tel businessphone workphone officephone",
    "mobile": "mobile mobilephone cell cellphone mobilenumber",
}
_COMPANY = (
    "customer company companyname account accountname organization organisation organizationname "
    "associatedcompany customername"
)
_CREATED = "created createdate createddate createdat createdon datecreated creationdate"
_DEAL_HEADERS = {
    "title": "title dealname deal name opportunityname opportunity dealtitle",
    "customer": _COMPANY,
    "contact": "contact contactname primarycontact associatedcontact contactemail",
    "pipeline": "pipeline dealpipeline salespipeline",
    "stage": "stage dealstage stagename opportunitystage salesstage",
    "amount": "amount value dealvalue dealamount opportunityamount",
    "currency": "currency currencycode dealcurrency dealcurrencycode opportunitycurrency",
    "owner": "owner dealowner opportunityowner assignedto salesrep ownername owneremail",
    "expected_close": "closedate expectedclosedate expectedclose closingdate estimatedclosedate "
    "expectedclosingdate",
    "closed": "closeddate dateclosed closedat actualclosedate wondate lostdate closedwondate closedlostdate",
    "created": _CREATED,
    "source": "source leadsource dealsource origin",
    "lost_reason": "lostreason closedlostreason lossreason reasonlost",
}
_TICKET_HEADERS = {
    "subject": "subject ticketname ticketsubject title summary name",
    "description": "description ticketdescription body details message content",
    "type": "type tickettype category issuetype",
    "priority": "priority ticketpriority urgency severity",
    "status": "status ticketstatus state",
    "channel": "channel source ticketsource via origin medium",
    "customer": _COMPANY + " requesterorganization",
    "contact": "contact requesteremail contactemail email associatedcontact",
    "contact_name": "contactname requestername requester",
    "assignee": "assignee assignedto ticketowner owner agent assigneename assigneeemail",
    "created": _CREATED + " opened openedat submittedat",
    "resolution": "resolution resolutionnote solution",
    "closed": "closed closeddate closedat dateclosed resolved resolveddate resolvedat solvedat solveddate",
}
HEADERS = {
    "customers": _CUSTOMER_HEADERS,
    "contacts": _CONTACT_HEADERS,
    "deals": _DEAL_HEADERS,
    "tickets": _TICKET_HEADERS,
}
# Columns other tools export that crm keeps elsewhere: ignored, and the summary says why.
_KEPT_ELSEWHERE = {
    "deals": {
        "probability dealprobability winprobability": "a deal's probability is its stage's",
        "weightedamount forecastamount expectedrevenue": "crm weighs the amount by the stage",
    },
}
# A row needs a column for each of these (a name may come as first and last name).
_REQUIRED = {
    "customers": ("name",),
    "contacts": ("name", "customer"),
    "deals": ("title", "customer"),
    "tickets": ("subject", "customer"),
}
# Columns that stand in for a required one: a name in two parts; a helpdesk's requester,
# whose customer is found by their email.
_INSTEAD = {
    ("name", "customers"): {"first_name", "last_name"},
    ("name", "contacts"): {"first_name", "last_name"},
    ("customer", "tickets"): {"contact", "contact_name"},
}
_FIELD_WORDS = {"name": "the name", "customer": "the customer (company)", "title": "the deal's title"}


_FOLD = re.compile(r"[^a-z0-9]+")


def fold_header(text: str) -> str:
    """A header (or a word of a cell) as it is compared: lower case, letters and digits only."""
    return _FOLD.sub("", text.lower())


def map_columns(
    entity: str, header: list[str], explicit: dict[str, str], given: frozenset[str] = frozenset(),
    *, keep_unknown: bool = False,
) -> tuple[dict[int, str], list[str]]:  # fmt: skip
    """Which column feeds which field; returns (index to field, ignored columns).
    A column ``--map`` names wins over a header's spelling; a row needs a column for
    each required field (a name may come as first and last name, a ticket's customer
    as its requester) unless it is ``given`` (a default customer). With
    ``keep_unknown``, every other named column is a custom field of the same name,
    but for those crm keeps elsewhere (a deal's probability is its stage's)."""
    known = HEADERS[entity]
    mapping = _explicit_columns(entity, header, explicit)
    spellings = {spelling: name for name, words in known.items() for spelling in words.split()}
    taken = set(mapping.values())
    for index, column in enumerate(header):
        target = spellings.get(fold_header(column))
        if index not in mapping and target and target not in taken:
            mapping[index] = target
            taken.add(target)
    for needed in _REQUIRED[entity]:
        if needed not in taken | given and not _INSTEAD.get((needed, entity), set()) & taken:
            raise Invalid(
                f"no column for {_FIELD_WORDS.get(needed, 'the ' + needed)} among {_shown_header(header)}; "
                f"map one with --map COLUMN={needed}"
            )
    if keep_unknown:
        mapping.update(_custom_columns(entity, header, mapping))
    ignored = [_why_ignored(entity, column) for index, column in enumerate(header) if index not in mapping]
    return mapping, ignored


def _custom_columns(entity: str, header: list[str], mapping: dict[int, str]) -> dict[int, str]:
    """The columns left over, as custom fields named as the header names them (a name
    two columns share gets " (2)", " (3)"...)."""
    kept: dict[int, str] = {}
    used = {target for target in mapping.values() if target.startswith("custom.")}
    for index, column in enumerate(header):
        name = column.strip()[:NAME_LIMIT].strip()
        if index in mapping or not name or _why_ignored(entity, column) != column:
            continue
        target, copy = f"custom.{name}", 1
        while target in used:
            copy += 1
            target = f"custom.{name} ({copy})"
        used.add(target)
        kept[index] = target
    return kept


def _explicit_columns(entity: str, header: list[str], explicit: dict[str, str]) -> dict[int, str]:
    """The columns ``--map COLUMN=FIELD`` names; ``custom.KEY`` makes one a custom field."""
    known = HEADERS[entity]
    folded = {fold_header(column): index for index, column in enumerate(header)}
    mapping: dict[int, str] = {}
    for column, target in explicit.items():
        index = folded.get(fold_header(column))
        if index is None:
            raise Invalid(f"--map {column}={target}: the file has no column {quoted(column)}")
        if target not in known and not (
            target.startswith("custom.") and target.removeprefix("custom.").strip()
        ):
            raise Invalid(
                f"--map {column}={target}: {entity} have no field {quoted(target)} "
                f"(known: {', '.join(known)})"
            )
        mapping[index] = target
    return mapping


def _why_ignored(entity: str, column: str) -> str:
    folded = fold_header(column)
    for spellings, reason in _KEPT_ELSEWHERE.get(entity, {}).items():
        if folded in spellings.split():
            return f"{column} ({reason})"
    return column


def _shown_header(header: list[str]) -> str:
    shown = ", ".join(repr(column) for column in header[:10])
    return shown + (f" and {len(header) - 10} more" if len(header) > 10 else "")


def cell_values(cells: list[str], mapping: dict[int, str]) -> dict[str, Any]:
    """A row's non-empty cells by field: first and last name make the name (and a
    person), ``custom.KEY`` columns the custom fields."""
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for index, target in mapping.items():
        text = cells[index].strip() if index < len(cells) else ""
        if not text:
            continue
        if target.startswith("custom."):
            custom[target.removeprefix("custom.")] = text
        else:
            values[target] = text
    first, last = values.pop("first_name", None), values.pop("last_name", None)
    if "name" not in values and (first or last):
        values["name"] = " ".join(part for part in (first, last) if part)
        values.setdefault("kind", "person")
    if custom:
        values["custom"] = custom
    return values
