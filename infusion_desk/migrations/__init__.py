"""Alembic migrations of the clinic database; the app applies them at start-up.

``HEAD`` names the newest revision so start-up can see that a database is current
without importing Alembic (a test keeps it equal to the migration chain's head).
"""

HEAD = "0011"
