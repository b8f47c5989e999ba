"""Weeks domain."""
