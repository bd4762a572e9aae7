"""Alembic migrations of the clinic database; the app applies them at start-up."""
