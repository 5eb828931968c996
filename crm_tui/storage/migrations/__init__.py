"""Alembic migrations, shipped inside the package so `crm db upgrade` works anywhere."""
