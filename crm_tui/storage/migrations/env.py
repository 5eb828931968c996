"""Alembic environment: runs on the connection crm hands over, or on alembic.ini's URL."""

from alembic import context
from sqlalchemy import create_engine

from crm_tui.storage.models import metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url")).begin() as conn:
        run(conn)
