from bot.scoring.metrics import SCALE, contributions, samples_of, value_of


def pairs(facts, sl=20):
    return contributions(facts, None, service_level_seconds=sl)


def test_answered_call_contributes_to_each_contact_metric():
    out = pairs(
        {"answered": True, "wait": 12, "talk": 200, "hold": 30, "acw": 15, "resolved": True, "rating": 4}
    )
    assert out["handled"] == (SCALE, SCALE)
    assert out["aht"] == (245 * SCALE, SCALE)
    assert out["talk_time"] == (200 * SCALE, SCALE)
    assert out["asa"] == (12 * SCALE, SCALE)
    assert out["fcr"] == (SCALE, SCALE)
    assert out["csat"] == (4 * SCALE, SCALE)
    assert out["service_level"] == (SCALE, SCALE)
    assert out["abandon_rate"] == (0, SCALE)


def test_talk_only_source_has_no_aht():
    out = pairs({"answered": True, "talk": 200})
    assert "aht" not in out and out["talk_time"] == (200 * SCALE, SCALE)


def test_blank_rating_is_no_survey_not_zero():
    assert "csat" not in pairs({"answered": True, "rating": None})


def test_abandon_counts_offered_but_not_handled():
    out = pairs({"abandoned": True})
    assert out == {"abandon_rate": (SCALE, SCALE), "service_level": (0, SCALE)}


def test_pre_aggregated_metrics_are_reweighted_not_averaged():
    rows = [(17.0, 204.0), (20.0, 182.0)]
    num = sum(contributions(None, {"asa": (m * n, n)}, service_level_seconds=20)["asa"][0] for m, n in rows)
    den = sum(contributions(None, {"asa": (m * n, n)}, service_level_seconds=20)["asa"][1] for m, n in rows)
    assert value_of("asa", num, den) == (17 * 204 + 20 * 182) / (204 + 182)
    assert samples_of(den) == 386


def test_zero_scheduled_minutes_is_not_eligible_for_adherence():
    assert "adherence" not in pairs({"scheduled_minutes": 0, "adhered_minutes": 0})
    assert pairs({"scheduled_minutes": 480, "adhered_minutes": 432})["adherence"] == (
        432 * SCALE,
        480 * SCALE,
    )
