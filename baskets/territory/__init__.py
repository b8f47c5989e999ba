"""Territory domain."""
