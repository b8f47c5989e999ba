"""The demo: realistic fixtures of two territories and the whole week run on them."""
