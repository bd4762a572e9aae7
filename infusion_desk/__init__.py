"""Infusion Desk: the revenue cycle of a small infusion clinic in one desktop application."""

__version__ = "0.1.0"
