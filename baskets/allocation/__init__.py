"""Allocation of a week: stored baskets, packing lists, coverage figures."""
