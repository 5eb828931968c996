"""Alembic environment: runs on the connection crm hands over, or on alembic.ini's URL."""

from alembic import context
from sqlalchemy import create_engine

from crm_tui.storage.derived import is_derived_table
from crm_tui.storage.models import metadata


def include_name(name, type_, parent_names) -> bool:
    """Derived tables (search index, stage totals) are storage's own, not table models:
    autogenerate skips them."""
    return not (type_ == "table" and is_derived_table(name))


def run(connection) -> None:
    applied = context.config.attributes.get("on_version_apply")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
        # Told of each migration as it is applied, for a progress bar.
        **({"on_version_apply": applied} if applied else {}),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no connection handed over and no sqlalchemy.url in alembic.ini")
    with create_engine(url).begin() as conn:
        run(conn)
