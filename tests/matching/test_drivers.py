"""Drivers for rounds: hand-checkable cases, replacements and hypothesis properties."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from baskets.matching.drivers import (
    DriverProblem,
    DriverResult,
    Round,
    Volunteer,
    assign_drivers,
    propose_replacements,
    resolve_after_dropout,
)

DAY = datetime(2026, 3, 16, 8, 0)
HUB = (47.75, 7.34)
ALL_WEEK = ((DAY - timedelta(days=1), DAY + timedelta(days=7)),)


def rnd(rid: str, start_h: float = 0, hours: float = 3, *, load: float = 200,
        cold: bool = False, at: tuple[float, float] = HUB) -> Round:
    start = DAY + timedelta(hours=start_h)
    return Round(rid, start, start + timedelta(hours=hours), load, at[0], at[1], cold)


def vol(vid: str, *, km_north: float = 1, capacity: float = 500, cold: bool = False,
        availability: tuple[tuple[datetime, datetime], ...] = ALL_WEEK,
        max_rounds: int | None = None, max_hours: float | None = None, done: int = 0,
        recent: int = 0) -> Volunteer:
    return Volunteer(vid, availability, capacity, HUB[0] + km_north / 111.2, HUB[1], cold,
                     max_rounds, max_hours, done, 0.0, recent)


def solve(pb: DriverProblem) -> DriverResult:
    return assign_drivers(pb, time_limit=5, seed=1)


def drivers(res: DriverResult) -> dict[str, str]:
    return {a.round_id: a.volunteer_id for a in res.assignments}


def test_nearest_volunteer_drives() -> None:
    """Two free volunteers: the one living 1 km away drives, not the one 8 km away."""
    res = solve(DriverProblem((rnd("R"),), (vol("far", km_north=8), vol("near"))))
    assert drivers(res) == {"R": "near"}
    assert res.assignments[0].detour_km == pytest.approx(1, abs=0.05)


def test_capacity_and_refrigeration() -> None:
    """A 300 kg refrigerated round goes to the only big refrigerated vehicle."""
    vols = (vol("small", capacity=200, cold=True), vol("warm", capacity=800),
            vol("ok", km_north=9, capacity=400, cold=True))
    res = solve(DriverProblem((rnd("R", load=300, cold=True),), vols))
    assert drivers(res) == {"R": "ok"}


def test_availability_must_cover_window() -> None:
    """Free 8:00-10:00 does not cover a round 8:00-11:00: the round stays unassigned."""
    part = ((DAY, DAY + timedelta(hours=2)),)
    res = solve(DriverProblem((rnd("R"),), (vol("A", availability=part),)))
    assert res.assignments == ()
    assert {r.code for r in res.unassigned[0].reasons} >= {"no_driver", "availability"}


def test_no_two_overlapping_rounds() -> None:
    """One volunteer, two overlapping rounds: only one is driven."""
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 2)), (vol("A"),)))
    assert len(res.assignments) == 1
    assert "busy" in {r.code for r in res.unassigned[0].reasons}


def test_work_is_spread() -> None:
    """Two rounds on different days, two volunteers: each drives one, even if one is nearer."""
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 24)),
                              (vol("near", km_north=1), vol("other", km_north=5))))
    assert sorted(drivers(res).values()) == ["near", "other"]


def test_recent_driver_less_preferred() -> None:
    """Equal distance: the volunteer who drove 4 rounds recently is left to rest."""
    res = solve(DriverProblem((rnd("R"),), (vol("tired", recent=4), vol("fresh"))))
    assert drivers(res) == {"R": "fresh"}


def test_monthly_round_cap() -> None:
    """Cap 3 with 2 done: one more round at most this month."""
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 24), rnd("R3", 48)),
                              (vol("A", max_rounds=3, done=2),)))
    assert len(res.assignments) == 1


def test_monthly_hours_cap() -> None:
    """Cap of 5 hours: one 3 h round fits, not two."""
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 24)), (vol("A", max_hours=5),)))
    assert len(res.assignments) == 1


def test_pin_and_exclusion_are_honoured() -> None:
    """The far volunteer is pinned on R1; the near one is excluded from R2."""
    vols = (vol("near"), vol("far", km_north=9))
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 24)), vols,
                              pins=(("R1", "far"),), exclusions=(("R2", "near"),)))
    assert drivers(res) == {"R1": "far", "R2": "far"}
    assert next(a for a in res.assignments if a.round_id == "R1").pinned


def test_impossible_pin_rejected() -> None:
    """Pinning a volunteer whose vehicle is too small is an input error."""
    with pytest.raises(ValueError, match=r"pins\[0\].*capacity"):
        solve(DriverProblem((rnd("R", load=900),), (vol("A"),), pins=(("R", "A"),)))


def test_reasons_in_both_languages() -> None:
    """Assigned and unassigned rounds carry French and English reasons."""
    res = solve(DriverProblem((rnd("R1", 0), rnd("R2", 1)), (vol("A"),)))
    reasons = [r for a in res.assignments for r in a.reasons]
    reasons += [r for u in res.unassigned for r in u.reasons]
    assert {"availability", "vehicle", "detour", "workload", "no_driver"} <= {
        r.code for r in reasons}
    for r in reasons:
        assert r.fr
        assert r.en
        assert r.fr != r.en


def test_replacements_nearest_first() -> None:
    """After A drops out, candidates come nearest first, without A nor a busy volunteer."""
    vols = (vol("A", km_north=0.5), vol("B", km_north=6), vol("C", km_north=2),
            vol("D", km_north=4), vol("busy", km_north=1))
    pb = DriverProblem((rnd("R", 0), rnd("S", 1)), vols)
    props = propose_replacements(pb, "R", "A", current={"R": "A", "S": "busy"})
    assert [p.volunteer_id for p in props] == ["C", "D", "B"]
    assert [p.detour_km for p in props] == sorted(p.detour_km for p in props)
    assert props[0].reasons[0].code == "rank"
    assert len(propose_replacements(pb, "R", "A", limit=2)) == 2


def test_resolve_after_dropout_moves_only_that_round() -> None:
    """Other rounds keep their drivers; the dropped volunteer does not get the round back."""
    vols = (vol("A"), vol("B", km_north=3), vol("C", km_north=6))
    pb = DriverProblem((rnd("R1", 0), rnd("R2", 24), rnd("R3", 48)), vols)
    first = solve(pb)
    victim = first.assignments[0]
    again = resolve_after_dropout(pb, first, victim.round_id, victim.volunteer_id,
                                  time_limit=5, seed=1)
    before, after = drivers(first), drivers(again)
    assert after[victim.round_id] != victim.volunteer_id
    assert {k: v for k, v in after.items() if k != victim.round_id} == {
        k: v for k, v in before.items() if k != victim.round_id}


# ------------------------------------------------------------------------------- properties


@st.composite
def problems(draw: st.DrawFn) -> DriverProblem:
    rounds = tuple(
        rnd(f"R{i}", draw(st.integers(0, 72)), draw(st.integers(1, 5)),
            load=draw(st.integers(50, 600)), cold=draw(st.booleans()),
            at=(HUB[0] + draw(st.floats(-0.2, 0.2)), HUB[1]))
        for i in range(draw(st.integers(1, 7))))
    vols = []
    for j in range(draw(st.integers(1, 6))):
        a = DAY + timedelta(hours=draw(st.integers(-5, 40)))
        vols.append(vol(f"V{j}", km_north=draw(st.floats(0, 40)),
                        capacity=draw(st.integers(100, 700)), cold=draw(st.booleans()),
                        availability=((a, a + timedelta(hours=draw(st.integers(1, 60)))),),
                        max_rounds=draw(st.none() | st.integers(0, 4)),
                        max_hours=draw(st.none() | st.integers(0, 12)),
                        done=draw(st.integers(0, 2)), recent=draw(st.integers(0, 5))))
    excl = tuple((r.id, v.id) for r in rounds for v in vols if draw(st.booleans())
                 and draw(st.booleans()))
    return DriverProblem(rounds, tuple(vols), exclusions=excl)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_driver_rules_hold(pb: DriverProblem) -> None:
    """Availability, capacity, cold chain, detour, caps, exclusions and no overlap hold."""
    res = solve(pb)
    rounds = {r.id: r for r in pb.rounds}
    vols = {v.id: v for v in pb.volunteers}
    mine: dict[str, list[Round]] = defaultdict(list)
    for a in res.assignments:
        r, v = rounds[a.round_id], vols[a.volunteer_id]
        assert (r.id, v.id) not in pb.exclusions
        assert any(s <= r.start and r.end <= e for s, e in v.availability)
        assert v.capacity_kg >= r.peak_load_kg
        assert v.refrigerated or not r.refrigerated
        assert great_circle((v.lat, v.lon), (r.lat, r.lon)).km <= pb.max_detour_km
        assert a.reasons
        mine[v.id].append(r)
    for vid, rs in mine.items():
        v = vols[vid]
        rs.sort(key=lambda r: r.start)
        for x, y in zip(rs, rs[1:], strict=False):
            assert x.end <= y.start
        if v.max_rounds_per_month is not None:
            assert v.rounds_this_month + len(rs) <= v.max_rounds_per_month
        if v.max_hours_per_month is not None:
            hours = sum((r.end - r.start).total_seconds() / 3600 for r in rs)
            assert v.hours_this_month + hours <= v.max_hours_per_month + 1e-9
    assert len(res.assignments) + len(res.unassigned) == len(pb.rounds)
    for u in res.unassigned:
        assert u.reasons


@settings(max_examples=20, deadline=None)
@given(problems(), st.data())
def test_pins_are_kept(pb: DriverProblem, data: st.DataObject) -> None:
    """Pinning some assignments of a first plan keeps exactly those pairs in the next one."""
    first = solve(pb)
    if not first.assignments:
        return
    chosen = data.draw(st.lists(st.sampled_from(first.assignments), unique=True, max_size=3))
    pins = tuple((a.round_id, a.volunteer_id) for a in chosen)
    again = solve(DriverProblem(pb.rounds, pb.volunteers, pins, pb.exclusions,
                                pb.max_detour_km))
    got = drivers(again)
    for rid, vid in pins:
        assert got[rid] == vid
    # The first plan itself satisfies these pins, so pinning never costs a round.
    assert len(again.assignments) >= len(first.assignments)
