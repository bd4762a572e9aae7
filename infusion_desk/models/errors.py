"""Errors the data layer raises that are the environment's fault, importable without SQLAlchemy."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be used just now (locked, server down, disk full): not the user's input.

    Nothing of the unit of work was kept; the same action can be tried again.
    """
