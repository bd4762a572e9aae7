"""Tests of Infusion Desk, mirroring the package."""
