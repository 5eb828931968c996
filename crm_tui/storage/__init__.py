"""Storage: the engine, the table models, migrations and the SQLite mechanics.

Nothing here knows business rules; ``crm_tui.logic`` calls it.
"""
