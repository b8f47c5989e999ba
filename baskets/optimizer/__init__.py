"""Pure solvers for allocation and routing: dataclasses in, dataclasses out."""
