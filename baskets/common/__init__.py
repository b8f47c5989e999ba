"""Common domain."""
