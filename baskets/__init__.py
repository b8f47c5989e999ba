"""Solidarity baskets."""
