"""The product catalogue: what the team sells, at which price and tax rate."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from crm_tui.logic.core import audit
from crm_tui.logic.core.context import Crm, Work
from crm_tui.logic.core.errors import Duplicate, Invalid, NotFound, quoted
from crm_tui.logic.core.refs import ref
from crm_tui.logic.sales.fields import about
from crm_tui.logic.sales.schemas import ProductCreate, ProductRead, ProductUpdate
from crm_tui.logic.values import money
from crm_tui.logic.values.normalise import clean_text
from crm_tui.storage.models import Product
from crm_tui.storage.types import utcnow


def read(product: Product) -> ProductRead:
    return ProductRead(
        id=product.id,
        ref=ref("product", product.id),
        sku=product.sku,
        name=product.name,
        unit_price_minor=product.unit_price_minor,
        price=str(money.as_decimal(product.unit_price_minor, product.currency)),
        currency=product.currency,
        tax_rate=money.percent_text(product.tax_rate_bp),
        active=product.active,
        version=product.version,
    )


def find(work: Work, sku: str) -> Product:
    """The product with this SKU (any case)."""
    found = work.session.execute(
        select(Product).where(func.lower(col(Product.sku)) == func.lower(sku.strip()))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no product with SKU {quoted(sku)}")
    return found


def _clean_sku(sku: str) -> str:
    with about("sku"):
        text = clean_text(sku, "SKU", required=True, limit=64)
        if any(ch.isspace() for ch in text):
            raise Invalid(f"a SKU has no spaces: {quoted(sku)}")
    return text


def _currency(code: str) -> str:
    with about("currency"):
        return money.currency(code)


def _price(value: str | int, code: str) -> int:
    with about("price"):
        return money.to_minor(value, code, what="price")


def _tax_rate(value: str | int | None) -> int:
    with about("tax_rate"):
        return money.to_basis_points(value, "tax rate")


def check_may_manage(crm: Crm) -> None:
    """Forbidden unless the acting user may manage the catalogue (a manager or an admin)."""
    with crm.work("products.manage", write=False):
        pass


def create_in(work: Work, data: ProductCreate) -> ProductRead:
    """Add a product to the catalogue inside ``work``; SKUs are unique (ignoring case)."""
    work.require("products.manage")
    sku = _clean_sku(data.sku)
    taken = work.session.execute(
        # The database's lower() on both sides: SQLite's folds ASCII only.
        select(col(Product.id)).where(func.lower(col(Product.sku)) == func.lower(sku))
    ).first()
    if taken:
        raise Duplicate(f"there is already a product with SKU {sku}", field="sku")
    code = _currency(data.currency or work.crm.settings.default_currency)
    product = Product(
        sku=sku,
        name=clean_text(data.name, "name", required=True),
        unit_price_minor=_price(data.price, code),
        currency=code,
        tax_rate_bp=_tax_rate(data.tax_rate),
        active=data.active,
    )
    work.session.add(product)
    work.session.flush()
    created = read(product)
    work.audit(
        "product",
        product.id,
        "create",
        audit.diff({}, created.model_dump(exclude={"id", "ref", "version"})),
    )
    return created


def add_product(crm: Crm, data: ProductCreate) -> ProductRead:
    with crm.work("products.manage") as work:
        return create_in(work, data)


def get_product(crm: Crm, sku: str) -> ProductRead:
    with crm.work() as work:
        return read(find(work, sku))


def list_products(crm: Crm, *, include_inactive: bool = False) -> list[ProductRead]:
    with crm.work() as work:
        query = select(Product).order_by(col(Product.sku))
        if not include_inactive:
            query = query.where(col(Product.active))
        return [read(product) for product in work.session.execute(query).scalars()]


def update_product(crm: Crm, sku: str, data: ProductUpdate) -> ProductRead:
    """Change name, price, currency or tax rate; orders already made keep their prices."""
    with crm.work("products.manage") as work:
        product = find(work, sku)
        work.subject = ref("product", product.id)
        given = data.model_dump(exclude_unset=True)
        if not given:
            raise Invalid("nothing to change: give at least one field")
        before = read(product)
        if "name" in given:
            product.name = clean_text(given["name"], "name", required=True)
        if "currency" in given or "price" in given:
            code = _currency(given["currency"]) if given.get("currency") else product.currency
            price = given.get("price")
            if price is None:
                price = str(money.as_decimal(product.unit_price_minor, product.currency))
            product.unit_price_minor, product.currency = _price(price, code), code
        if "tax_rate" in given:
            product.tax_rate_bp = _tax_rate(given["tax_rate"])
        product.updated_at = utcnow()
        work.session.flush()
        after = read(product)
        work.audit(
            "product",
            product.id,
            "update",
            audit.diff(before.model_dump(), after.model_dump(exclude={"version"})),
        )
        return after


def set_active(crm: Crm, sku: str, active: bool) -> ProductRead:
    """Take a product off sale (or back on); it stays on the orders that have it."""
    with crm.work("products.manage") as work:
        product = find(work, sku)
        if product.active != active:
            product.active = active
            product.updated_at = utcnow()
            work.session.flush()
            work.audit(
                "product",
                product.id,
                "activate" if active else "deactivate",
                {"active": [not active, active]},
            )
        return read(product)
