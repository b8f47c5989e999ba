"""Volunteers domain."""
