"""Errors raised by storage; logic turns them into the user's words."""


class StorageError(Exception):
    """Base of the errors storage raises."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or created where it was asked for."""


class SchemaTooNew(StorageError):
    """The database was written by a newer crm than this one."""


class SchemaTooOld(StorageError):
    """The database needs `crm db upgrade` before this crm can use it."""


class StaleRecord(StorageError):
    """A row changed (or vanished) between reading it and writing it."""
