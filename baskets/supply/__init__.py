"""Supply domain."""
