"""Data-only models of pipelines, deals, products and orders (Create/Update/Read).

Field names here are the stable names of ``--format json|jsonl|csv``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from crm_tui.logic.core.schemas import Input, Output

MoneyText = str | int  # "1234.50" or 1234: amounts are never floats


class StageRead(Output):
    id: int
    name: str
    position: int
    probability: int
    kind: str  # open, won, lost
    deals: int  # active deals in the stage now


class PipelineRead(Output):
    id: int
    name: str
    is_default: bool
    stages: list[StageRead]
    version: int


class DealFields(Input):
    contact: str | int | None = None
    amount: MoneyText | None = None
    currency: str | None = None
    owner: str | None = None
    expected_close: date | None = None
    source: str | None = None
    custom: dict[str, str | int | float | bool | None] | None = None


class DealCreate(DealFields):
    customer: str | int
    title: str
    pipeline: str | None = None
    stage: str | None = None


class DealUpdate(DealFields):
    """Only the fields set are changed; a field set to None or "" is cleared."""

    title: str | None = None


class StageChangeRead(Output):
    at: datetime
    from_stage: str | None
    to_stage: str
    actor: str | None


class DealRead(Output):
    id: int
    ref: str
    title: str
    customer: str
    customer_name: str
    contact: str | None
    amount_minor: int
    amount: str
    currency: str
    pipeline: str
    stage: str
    probability: int
    weighted_minor: int
    status: str  # open, won, lost
    owner: str | None
    expected_close: date | None
    closed_at: datetime | None
    lost_reason: str | None
    source: str | None
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


class DealDetail(Output):
    deal: DealRead
    history: list[StageChangeRead]
    orders: list[str]


class DealPage(Output):
    deals: list[DealRead]
    next_after: str | None


class ProductCreate(Input):
    sku: str = Field(min_length=1, max_length=64)
    name: str
    price: MoneyText
    currency: str | None = None
    tax_rate: MoneyText | None = None
    active: bool = True


class ProductUpdate(Input):
    name: str | None = None
    price: MoneyText | None = None
    currency: str | None = None
    tax_rate: MoneyText | None = None


class ProductRead(Output):
    id: int
    ref: str
    sku: str
    name: str
    unit_price_minor: int
    price: str
    currency: str
    tax_rate: str
    active: bool
    version: int


class LineCreate(Input):
    """A product line (price and tax from the product unless given) or a free-text line."""

    product: str | None = None
    description: str | None = None
    quantity: MoneyText = "1"
    unit_price: MoneyText | None = None
    discount: MoneyText | None = None
    tax_rate: MoneyText | None = None


class OrderCreate(Input):
    customer: str | int
    currency: str | None = None
    deal: str | int | None = None
    owner: str | None = None
    lines: list[LineCreate] = Field(default_factory=list)


class LineRead(Output):
    id: int
    position: int
    product: str | None
    description: str
    quantity: str
    unit_price_minor: int
    discount: str
    tax_rate: str
    net_minor: int
    tax_minor: int


class OrderRead(Output):
    id: int
    ref: str
    customer: str
    customer_name: str
    deal: str | None
    owner: str | None
    status: str
    currency: str
    net_minor: int
    tax_minor: int
    total_minor: int
    total: str
    lines: list[LineRead]
    cancel_reason: str | None
    created_at: datetime
    confirmed_at: datetime | None
    fulfilled_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    version: int


class StageTotal(Output):
    currency: str
    amount_minor: int


class BoardColumn(Output):
    """A stage on the board: its figures over all its active deals, and its newest cards."""

    stage: StageRead
    count: int
    totals: list[StageTotal]
    cards: list[DealRead]


class Board(Output):
    pipeline: str
    pipelines: list[str]
    columns: list[BoardColumn]
