"""Matching runs, engagements of providers with projects, and the hours they log."""
