"""Explanations: a ledger row stores a template id plus inputs; this renders them as a sentence."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.messages import formats
from bot.messages.catalogue import DEFAULT_LOCALE, has, render
from bot.scoring.periods import Period

BADGE_TEMPLATES = frozenset(
    {
        "badge.threshold",
        "badge.streak",
        "badge.count",
        "badge.personal_best",
        "badge.most_improved",
        "badge.challenge",
    }
)
#: Why a badge was revoked: `badge.revoked.day`, `.too_few`, `.run`, `.count`, `.not_best`, `.program`.
REVOKED_PREFIX = "badge.revoked."
#: Templates whose sentence carries text a user typed (adapters must escape it).
USER_TEXT_TEMPLATES = frozenset(
    {
        "points.kudos",
        "points.adjustment",
        "points.kudos_revoked",
        "coins.challenge",
        "coins.redeem",
        "coins.refund",
    }
)
COIN_TEMPLATES = frozenset(
    {"coins.earned", "coins.kudos", "coins.kudos_revoked", "coins.challenge", "coins.redeem", "coins.refund"}
)


def explain(
    template: str,
    inputs: Mapping[str, Any],
    locale: str = DEFAULT_LOCALE,
    names: Mapping[int, str] | None = None,
) -> str:
    """The sentence for one ledger row; `names` maps person ids (e.g. a kudos giver) to display names."""
    if template == "points.zone":
        return _zone(inputs, locale)
    if template == "points.improvement":
        return _improvement(inputs, locale)
    if template == "points.reversal":
        return render(
            "explain.points.reversal",
            locale,
            points=formats.trim(float(inputs["reversed"])),
            rule=inputs["rule"],
            version=inputs["version"],
        )
    if template == "points.kudos":
        return _kudos(inputs, locale, names or {})
    if template in BADGE_TEMPLATES:
        return _badge(template, inputs, locale)
    if template.startswith(REVOKED_PREFIX):
        return _revoked(template, inputs, locale)
    if template in COIN_TEMPLATES:
        return _coins(template, inputs, locale, names or {})
    if template in ("points.adjustment", "points.kudos_revoked"):
        by = inputs.get("by")
        name = inputs.get("by_name") or ((names or {}).get(int(by)) if isinstance(by, int) else None)
        return render(
            f"explain.{template}",
            locale,
            by=name or render("explain.points.kudos.someone", locale),
            reason=inputs.get("reason", ""),
            kudos_id=inputs.get("kudos_id", ""),
            points=formats.trim(float(inputs.get("points", 0))),
        )
    if template == "points.challenge":
        return render(
            "explain.points.challenge",
            locale,
            name=inputs.get("name", ""),
            rank=inputs.get("rank"),
            points=formats.trim(float(inputs.get("points", 0))),
        )
    message_id = f"explain.{template}"
    if has(message_id, locale):
        return render(message_id, locale, **inputs)
    return render(
        "explain.unknown", locale, template=template, points=formats.trim(float(inputs.get("points", 0)))
    )


def _coins(template: str, inputs: Mapping[str, Any], locale: str, names: Mapping[int, str]) -> str:
    """ "coins from points: 118 pts all time at 0.1 coins per point make 11.8 coins earned …"."""
    someone = render("explain.points.kudos.someone", locale)
    person = {
        key: names.get(int(inputs[key]), someone) if isinstance(inputs.get(key), int) else someone
        for key in ("giver", "by")
    }
    kind = template.removeprefix("coins.")
    if kind == "refund" and inputs.get("note"):
        kind = "refund_note"
    return render(
        f"explain.coins.{kind}",
        locale,
        points=formats.trim(float(inputs.get("points", 0))),
        per_point=formats.trim(float(inputs.get("per_point", 0))),
        earned=formats.trim(float(inputs.get("earned", 0))),
        kudos_id=inputs.get("kudos_id", ""),
        name=inputs.get("name", ""),
        rank=inputs.get("rank", ""),
        redemption=inputs.get("redemption", ""),
        note=inputs.get("note", ""),
        **person,
    )


def _zone(inputs: Mapping[str, Any], locale: str) -> str:
    metric, unit = str(inputs["metric"]), str(inputs["unit"])
    lower, upper = inputs.get("lower"), inputs.get("upper")
    if lower and upper:
        shape = "between"
    elif upper:
        shape = "below"
    elif lower:
        shape = "above"
    else:
        shape = "outside"
    subject = _subject(metric, unit, inputs, locale)
    if inputs.get("period"):
        span = formats.window(
            Period(inputs["period"]),
            date.fromisoformat(inputs["start"]),
            date.fromisoformat(inputs["end"]),
            locale,
        )
        subject = render("explain.points.zone.over_period", locale, subject=subject, window=span)
    sentence = render(
        f"explain.points.zone.{shape}",
        locale,
        subject=subject,
        lower=_zone_point(unit, lower, locale),
        upper=_zone_point(unit, upper, locale),
        points=formats.trim(float(inputs["points"])),
        rule=inputs["rule"],
        version=inputs["version"],
    )
    return sentence + _qualifiers(inputs, locale)


def _improvement(inputs: Mapping[str, Any], locale: str) -> str:
    """ "AHT 5m 12s over 20 contacts vs your 28-day baseline 5m 40s over 410 contacts: 28 s better, …"."""
    metric, unit = str(inputs["metric"]), str(inputs["unit"])
    counted = unit == "count"
    key = "explain.points.improvement"
    baseline = render(
        f"{key}.count_baseline" if counted else f"{key}.baseline",
        locale,
        value=formats.value(unit, float(inputs["baseline"])),
        samples=formats.samples(metric, int(inputs["baseline_samples"]), locale),
    )
    rate = float(inputs["rate"])
    sentence = render(
        f"{key}.sentence",
        locale,
        subject=_subject(metric, unit, inputs, locale),
        window=render(f"{key}.{inputs['window']}", locale, days=inputs["baseline_days"]),
        baseline=baseline,
        better_by=_step(unit, float(inputs["better_by"]), locale),
        points=formats.trim(float(inputs["points"])),
        rate=render(
            f"{key}.rate",
            locale,
            count=rate,
            points=formats.trim(rate),
            per=_step(unit, float(inputs["per"]), locale),
        ),
        rule=inputs["rule"],
        version=inputs["version"],
    )
    return sentence + _qualifiers(inputs, locale)


def _step(unit: str, amount: float, locale: str) -> str:
    """A difference of a metric in its unit: 28 s, 2.5 percentage points, 0.2."""
    if unit == "fraction":
        amount = round(amount * 100, 2)
        return render(
            "explain.points.improvement.fraction", locale, count=amount, amount=formats.trim(amount)
        )
    return render(f"explain.points.improvement.{unit}", locale, amount=formats.trim(amount))


def _subject(metric: str, unit: str, inputs: Mapping[str, Any], locale: str) -> str:
    return render(
        "explain.points.zone.count_subject" if unit == "count" else "explain.points.zone.subject",
        locale,
        metric=formats.metric_label(metric, locale),
        value=formats.value(unit, float(inputs["value"])),
        samples=formats.samples(metric, int(inputs["samples"]), locale),
    )


def _qualifiers(inputs: Mapping[str, Any], locale: str) -> str:
    """Weight, gates and caps, as zone and improvement rules share them."""
    sentence = ""
    weight = float(inputs.get("weight", 1.0))
    if weight != 1.0:
        sentence += render("explain.points.zone.weighted", locale, weight=formats.trim(weight))
    for gate in inputs.get("gates") or []:
        sentence += _gate(gate, locale)
    if inputs.get("cap"):
        sentence += render(
            f"explain.points.zone.{inputs['cap']}", locale, uncapped=formats.trim(float(inputs["uncapped"]))
        )
    return sentence


def _gate(gate: Mapping[str, Any], locale: str) -> str:
    metric = str(gate["metric"])
    unit = formats.unit_of(metric)
    bounds = []
    if gate.get("gte") is not None:
        bounds.append(
            render("explain.points.zone.gate_gte", locale, bound=formats.value(unit, float(gate["gte"])))
        )
    if gate.get("lte") is not None:
        bounds.append(
            render("explain.points.zone.gate_lte", locale, bound=formats.value(unit, float(gate["lte"])))
        )
    return render(
        "explain.points.zone.gate",
        locale,
        metric=formats.metric_label(metric, locale),
        value=formats.value(unit, float(gate["value"])),
        bounds=render("common.and", locale).join(bounds),
    )


def _zone_point(unit: str, point: list[float] | None, locale: str) -> str:
    if not point:
        return ""
    value, points = point
    return render(
        "explain.points.zone.point", locale, value=formats.bound(unit, value), points=formats.trim(points)
    )


def _kudos(inputs: Mapping[str, Any], locale: str, names: Mapping[int, str]) -> str:
    giver = inputs.get("giver")
    name = names.get(int(giver)) if isinstance(giver, int) else None
    tag = inputs.get("value")
    return render(
        "explain.points.kudos.tagged" if tag else "explain.points.kudos.plain",
        locale,
        giver=name or render("explain.points.kudos.someone", locale),
        reason=inputs.get("reason", ""),
        value=tag or "",
        points=formats.trim(float(inputs.get("points", 0))),
    )


def badge_label(name: str, tier: str, locale: str = DEFAULT_LOCALE) -> str:
    """`Gold Happy streak`, or the name alone for a badge without tiers."""
    if not tier:
        return render("badges.label.plain", locale, name=name)
    return render("badges.label.tiered", locale, tier=render(f"badges.tier.{tier}", locale), name=name)


def _badge(template: str, inputs: Mapping[str, Any], locale: str) -> str:
    kind = template.removeprefix("badge.")
    metric = inputs.get("metric")
    unit = str(inputs.get("unit", "score"))
    fields: dict[str, Any] = {
        "badge": badge_label(
            str(inputs.get("name") or inputs.get("badge")), str(inputs.get("tier", "")), locale
        ),
        "version": inputs.get("version"),
        "start": inputs.get("start"),
        "end": inputs.get("end"),
    }
    if metric:
        fields["metric"] = formats.metric_label(str(metric), locale)
        fields["relation"] = render(
            "badges.explain.at_least" if inputs.get("direction") == "higher" else "badges.explain.at_most",
            locale,
        )
    for key in ("bound", "previous", "value"):
        if isinstance(inputs.get(key), int | float):
            fields[key] = formats.value(unit, float(inputs[key]))
    if "samples" in inputs and metric:
        fields["subject"] = render(
            "badges.explain.count_subject" if unit == "count" else "badges.explain.subject",
            locale,
            metric=fields["metric"],
            value=fields.get("value", ""),
            samples=formats.samples(str(metric), int(inputs["samples"]), locale),
        )
    elif metric:
        fields["subject"] = render(
            "badges.explain.count_subject", locale, metric=fields["metric"], value=fields.get("value", "")
        )
    if kind == "count":
        of = inputs.get("of")
        kind = {"kudos_received": "count_kudos", "challenges_won": "count_wins"}.get(str(of), "count_days")
        fields["period"] = inputs.get("period")
        fields["within"] = (
            render("badges.explain.within_all", locale)
            if inputs.get("period") == "all"
            else render("badges.explain.within", locale, period=inputs.get("period"))
        )
    fields |= {
        key: inputs[key]
        for key in ("days", "first", "last", "count", "previous_day", "contenders", "challenge_name", "rank")
        if key in inputs
    }
    if kind == "most_improved":
        fields["count"] = inputs.get("contenders")
    return render(f"badges.explain.{kind}", locale, **fields)


def _revoked(template: str, inputs: Mapping[str, Any], locale: str) -> str:
    """ "Bronze Happy streak (earned 2021-01-27) because the day's CSAT on 2021-01-26 changed to 2.00 over
    1 survey (correction), not at least 3.50, program v1"."""
    kind = template.removeprefix(REVOKED_PREFIX)
    metric = inputs.get("metric")
    unit = str(inputs.get("unit", "count"))
    fields: dict[str, Any] = {
        "badge": badge_label(
            str(inputs.get("name") or inputs.get("badge")), str(inputs.get("tier", "")), locale
        ),
        "earned": inputs.get("earned", ""),
        "version": inputs.get("version"),
        "metric": formats.metric_label(str(metric), locale) if metric else "",
        "relation": render(
            "badges.explain.at_least" if inputs.get("direction") == "higher" else "badges.explain.at_most",
            locale,
        ),
    }
    for key in ("bound", "value", "previous"):
        if isinstance(inputs.get(key), int | float):
            fields[key] = formats.value(unit, float(inputs[key]))
    for key in ("samples", "needed"):
        if isinstance(inputs.get(key), int) and metric:
            fields[key] = formats.samples(str(metric), int(inputs[key]), locale)
    fields |= {key: inputs[key] for key in ("day", "first", "last", "held", "goal", "count") if key in inputs}
    if kind == "run":
        fields["count"] = inputs.get("held", 0)
    if kind == "count" and inputs.get("period") in {period.value for period in Period}:
        start, end = inputs.get("start"), inputs.get("end")
        fields["window"] = (
            formats.window(
                Period(inputs["period"]), date.fromisoformat(start), date.fromisoformat(end), locale
            )
            if isinstance(start, str) and isinstance(end, str)
            else inputs["period"]
        )
    message_id = f"badges.revoked.{kind}"
    if not has(message_id, locale):
        message_id = "badges.revoked.program"
    return render(message_id, locale, **fields)
