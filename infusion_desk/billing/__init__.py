"""Billing domain: pure functions over plain data (no database session, no Qt, no I/O)."""
