"""The comparison's types: deltas in percent, side by side, and the compare.json round trip."""

from __future__ import annotations

import pytest

from bed.model.comparison import Delta, GatewayEntry, Latency, Measured, ProxyImage, deltas


def gateway(name: str, *, boot: float | None, size: float | None,
            latency: dict[str, dict[str, Latency]] | None) -> GatewayEntry:
    return GatewayEntry(name=name, spec=name, describe=name, kind="release", commit="", dirty=False,
                        status="ran" if size else "broken", verdict=None, error=None, litellm=name,
                        image=ProxyImage("t", "i", size) if size else None, packages=None,
                        measured=Measured(boot_s=boot, latency=latency), folder="f", report=None, repro="r")


@pytest.mark.parametrize(("before", "after", "pct"), [(4.0, 5.0, 25.0), (5.0, 4.0, -20.0), (0.0, 1.0, None),
                                                      (None, 1.0, None), (3.0, None, None), (3.0, 3.0, 0.0),
                                                      (3.0, 4.0, 33.3)])
def test_a_delta_is_a_percentage_of_the_earlier_value(before: float | None, after: float | None,
                                                      pct: float | None) -> None:
    assert Delta("boot_s", before, after).change_pct == pct


def test_a_surface_either_gateway_measured_is_listed_and_a_broken_gateway_keeps_its_rows() -> None:
    one = gateway("1.0", boot=4.0, size=600.0, latency={"chat": {"plain": Latency(2.0, 4.0, 10, 0)}})
    two = gateway("2.0", boot=5.0, size=660.0, latency={"chat": {"plain": Latency(None, None, 0, 5)},
                                                        "messages": {"plain": Latency(3.0, 6.0, 10, 0)}})
    found = {d.measure: (d.before, d.after, d.change_pct) for d in deltas(one, two)}
    assert found == {"boot_s": (4.0, 5.0, 25.0), "image_mb": (600.0, 660.0, 10.0),
                     "latency:chat:plain:p50": (2.0, None, None), "latency:chat:plain:p99": (4.0, None, None),
                     "latency:messages:plain:p50": (None, 3.0, None), "latency:messages:plain:p99": (None, 6.0, None)}
    broken = gateway("3.0", boot=None, size=None, latency=None)
    assert [(d.measure, d.after) for d in deltas(two, broken)][:2] == [("boot_s", None), ("image_mb", None)]


def test_measured_round_trips_through_its_json_form() -> None:
    measured = Measured(boot_s=4.2, latency={"chat": {"streamed": Latency(1.5, 2.5, 9, 1)}}, bench_note="n",
                        bench_s=3.0, images_s=0.1, leg_s=40.0)
    assert Measured.from_dict(measured.to_dict()) == measured
    assert Measured.from_dict({"boot_s": None, "latency": None, "leg_s": 1}) == Measured(leg_s=1.0)
