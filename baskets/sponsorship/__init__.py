"""Sponsorship domain."""
