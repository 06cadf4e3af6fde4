"""Explanations: a ledger row stores a template id plus inputs; this renders them as a sentence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages import formats
from bot.messages.catalogue import DEFAULT_LOCALE, has, render

#: Templates whose sentence carries text a user typed (adapters must escape it).
USER_TEXT_TEMPLATES = frozenset({"points.kudos", "points.adjustment", "points.kudos_revoked"})


def explain(
    template: str,
    inputs: Mapping[str, Any],
    locale: str = DEFAULT_LOCALE,
    names: Mapping[int, str] | None = None,
) -> str:
    """The sentence for one ledger row; `names` maps person ids (e.g. a kudos giver) to display names."""
    if template == "points.zone":
        return _zone(inputs, locale)
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
    subject = render(
        "explain.points.zone.count_subject" if unit == "count" else "explain.points.zone.subject",
        locale,
        metric=formats.metric_label(metric, locale),
        value=formats.value(unit, float(inputs["value"])),
        samples=formats.samples(metric, int(inputs["samples"]), locale),
    )
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
