"""The closed loop's weighting rule (simvision/loop/weights.py): a pure function, tested on its own."""

from __future__ import annotations

import pytest

from simvision.loop.weights import StratumStats, WeightRule, next_weights, normalise

S = StratumStats


def test_a_failing_stratum_gains_weight_and_the_others_lose() -> None:
    prior = {"class": {"car": 1.0, "person": 1.0, "cyclist": 1.0}}
    stats = [S("class", "car", 50, 5), S("class", "person", 50, 10), S("class", "cyclist", 50, 45)]
    new = next_weights(stats, prior, WeightRule(floor=0.0, max_change=1.0))["class"]
    assert new["cyclist"] > 1 / 3 > new["person"] > new["car"]
    assert sum(new.values()) == pytest.approx(1.0)


def test_monotonic_in_the_miss_rate() -> None:
    prior = {"weather": {"clear": 0.5, "fog": 0.5}}
    shares = []
    for misses in (0, 10, 20, 30, 40):
        stats = [S("weather", "clear", 40, 10), S("weather", "fog", 40, misses)]
        shares.append(next_weights(stats, prior)["weather"]["fog"])
    assert shares == sorted(shares) and shares[0] < 0.5 < shares[-1]


def test_cap_limits_the_change_per_round() -> None:
    prior = {"class": {"a": 0.5, "b": 0.5}}
    stats = [S("class", "a", 100, 0), S("class", "b", 100, 100)]
    free = next_weights(stats, prior, WeightRule(step=1.0, floor=0.0, max_change=1.0, alpha=0.0))["class"]
    assert free["b"] == pytest.approx(1.0)  # without a cap: all to the stratum that always misses
    capped = next_weights(stats, prior, WeightRule(step=1.0, floor=0.0, max_change=0.1, alpha=0.0))["class"]
    assert capped["b"] == pytest.approx(0.6) and capped["a"] == pytest.approx(0.4)


def test_floor_keeps_every_level_above_zero_and_revives_a_switched_off_one() -> None:
    prior = {"class": {"cup": 1.0, "bottle": 1.0, "bowl": 0.0}}  # bowl was never rendered
    stats = [S("class", "cup", 100, 0), S("class", "bottle", 100, 0)]  # and so is not in the evaluation
    new = next_weights(stats, prior, WeightRule(floor=0.1))["class"]
    assert new["bowl"] == pytest.approx(0.1) and min(new.values()) >= 0.1 - 1e-12
    assert sum(new.values()) == pytest.approx(1.0)
    # with the bowl in the evaluation (missed every time), it gains more than the floor
    stats.append(S("class", "bowl", 20, 20))
    assert next_weights(stats, prior, WeightRule(floor=0.1))["class"]["bowl"] > 0.2


def test_a_stratum_with_no_data_keeps_its_prior() -> None:
    prior = {"time_of_day": {"day": 0.55, "low_sun": 0.15, "dusk": 0.1, "night": 0.2}}
    stats = [S("time_of_day", "day", 60, 6), S("time_of_day", "night", 30, 25), S("time_of_day", "dusk", 2, 2)]
    new = next_weights(stats, prior, WeightRule(floor=0.01, min_count=5))["time_of_day"]
    assert new["low_sun"] == pytest.approx(0.15)  # not observed
    assert new["dusk"] == pytest.approx(0.1)  # observed, below min_count
    assert new["night"] > 0.2 and new["day"] < 0.55  # the observed ones share their prior mass by miss rate
    assert new["night"] + new["day"] == pytest.approx(0.75)
    # a group the evaluation does not cover is returned as it was (normalised)
    assert next_weights(stats, {"weather": {"clear": 2.0, "fog": 2.0}})["weather"] == {"clear": 0.5, "fog": 0.5}


def test_normalised_and_unknown_levels_or_groups_ignored() -> None:
    prior = {"class": {"a": 3.0, "b": 1.0}}
    stats = [S("class", "a", 10, 5), S("class", "b", 10, 5), S("class", "zzz", 10, 10), S("height_px", "x", 9, 9)]
    new = next_weights(stats, prior)
    assert set(new) == {"class"} and set(new["class"]) == {"a", "b"}
    assert sum(new["class"].values()) == pytest.approx(1.0)
    # equal miss rates: the target is equal shares (proportional to the miss rate), mixed half-way (step 0.5)
    assert new["class"] == pytest.approx({"a": 0.625, "b": 0.375})
    assert normalise({"a": 0.0, "b": 0.0}) == {"a": 0.5, "b": 0.5}


def test_from_recall_counts_misses() -> None:
    assert S.from_recall("class", "car", 40, 0.75) == S("class", "car", 40, 10)


def test_a_model_that_finds_almost_nothing_does_not_steer_with_min_recall() -> None:
    """The closed-loop benchmark's round 0: every stratum missed, so miss-rate weighting only flattens the
    table towards uniform; with min_recall the group keeps its weights until the model finds enough."""
    prior = {"time_of_day": {"day": 0.55, "low_sun": 0.15, "dusk": 0.1, "night": 0.2}}
    blind = [S("time_of_day", "day", 111, 111), S("time_of_day", "night", 42, 42), S("time_of_day", "dusk", 16, 16)]
    flattened = next_weights(blind, prior)["time_of_day"]
    assert flattened["day"] < 0.5 and flattened["dusk"] > 0.1  # what the rule does without the guard
    assert next_weights(blind, prior, WeightRule(min_recall=0.1))["time_of_day"] == pytest.approx(prior["time_of_day"])
    seeing = [S("time_of_day", "day", 111, 60), S("time_of_day", "night", 42, 40), S("time_of_day", "dusk", 16, 8)]
    steered = next_weights(seeing, prior, WeightRule(min_recall=0.1))["time_of_day"]  # pooled recall 0.36
    assert steered == next_weights(seeing, prior)["time_of_day"] and steered["night"] > 0.2


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (WeightRule(step=1.5), "rule.step"),
        (WeightRule(alpha=-1), "rule.alpha"),
        (WeightRule(floor=1.0), "rule.floor"),
        (WeightRule(max_change=0.0), "rule.max_change"),
        (WeightRule(min_count=-2), "rule.min_count"),
        (WeightRule(min_recall=1.0), "rule.min_recall"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_the_field(rule: WeightRule, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: must be ") as info:
        next_weights([], {"class": {"a": 1.0}}, rule)
    assert "\n" not in str(info.value)


def test_bad_stats_and_weights_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match=r"^stats\.class\.a: needs 0 <= misses <= count"):
        next_weights([S("class", "a", 3, 4)], {"class": {"a": 1.0}})
    with pytest.raises(ValueError, match=r"^weights\.a: must be >= 0"):
        next_weights([], {"class": {"a": -1.0}})
