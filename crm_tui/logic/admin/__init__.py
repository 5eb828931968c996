"""Looking after the database as a whole: its schema, backups and restores, demo data, undo."""
