"""Whole pieces at class level: each piece lot's LP kg turned into whole pieces per class."""

from __future__ import annotations

import math

import numpy as np

from baskets.optimizer.allocation.build import BuiltProblem, FloatArray


def round_class_pieces(
    built: BuiltProblem, class_amounts: tuple[FloatArray, ...]
) -> list[FloatArray]:
    """Turn each class's kg of a piece lot into whole pieces, never beyond the lot.

    Each lot keeps its LP total rounded to the nearest piece (never above its pieces, never
    above a point's kg capacity): every class first gets the floor of its pieces, and the
    pieces left go one by one to the class whose coverage is then lowest (counting what the
    lots rounded before gave or took), so rounding drifts no class by much more than a piece.
    Big pieces are rounded first, so smaller ones even out what they did.
    """
    amounts = [a.copy() for a in class_amounts]
    unit = built.unit_kg
    classes = built.classes
    problem = built.problem
    # Room left at capacitated points after the LP (the LP fills them up to the capacity).
    room: dict[int, float] = {}
    for c, klass in enumerate(classes):
        if klass.point is not None:
            cap = problem.points[klass.point].capacity_kg
            if cap is not None:
                room[klass.point] = room.get(klass.point, float(cap)) - float(amounts[c].sum())
    scale = np.array([max(k.need_kg * k.target, 1e-9) for k in classes])
    given = np.array([float(a.sum()) for a in amounts])
    holders: dict[int, list[tuple[int, int]]] = {}
    for c, klass in enumerate(classes):
        for pos, j in enumerate(klass.lots):
            if unit[int(j)] > 0 and amounts[c][pos] > 1e-12:
                holders.setdefault(int(j), []).append((c, pos))
    for j in sorted(holders, key=lambda j: (-float(unit[j]), j)):
        spots = holders[j]
        u = float(unit[j])
        pieces_max = problem.lots[j].pieces or 0
        exact = [amounts[c][pos] / u for c, pos in spots]
        whole = [math.floor(v + 1e-9) for v in exact]
        spare = min(pieces_max, math.floor(sum(exact) + 0.5)) - sum(whole)
        for i, ((c, _pos), w) in enumerate(zip(spots, whole, strict=True)):
            given[c] += (w - exact[i]) * u
            point = classes[c].point
            if point in room:
                room[point] += (exact[i] - w) * u
        # Lowest coverage first; ties by class order, so the answer is reproducible.
        candidates = sorted(
            (i for i in range(len(spots)) if exact[i] - whole[i] > 1e-9),
            key=lambda i: (given[spots[i][0]] / scale[spots[i][0]], i),
        )
        for i in candidates:
            if spare <= 0:
                break
            c = spots[i][0]
            point = classes[c].point
            if point in room:
                if room[point] < u - 1e-9:
                    continue
                room[point] -= u
            whole[i] += 1
            given[c] += u
            spare -= 1
        for (c, pos), w in zip(spots, whole, strict=True):
            amounts[c][pos] = w * u
    return amounts
