"""Value parsers of the tabular feed engine: every type, null tokens, sentinels and format compatibility."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.feeds.datetime_formats import check_format, compile_format
from bot.feeds.values import ValueProblem, clock_seconds, dst_gap, make_parser, nonexistent

PARIS = ZoneInfo("Europe/Paris")


def parser(kind, **options):
    options.setdefault("zone", UTC)
    return make_parser(kind, **options)


# ---- dates and times ------------------------------------------------------------------------------------


def test_day_first_dates_and_a_clear_reason_for_impossible_ones():
    read = parser("date", formats=["%d/%m/%Y"])
    assert read("02/01/2021") == date(2021, 1, 2)
    assert read(" 31/03/2021 ") == date(2021, 3, 31)
    with pytest.raises(ValueProblem) as problem:
        read("31/02/2021")
    assert str(problem.value) == "'31/02/2021' does not match any of the formats ['%d/%m/%Y']"


def test_formats_are_tried_in_order():
    read = parser("date", formats=["%m-%d-%Y", "%m/%d/%Y"])
    assert read("01-12-2021") == date(2021, 1, 12)
    assert read("1/12/2021") == date(2021, 1, 12)


def test_twelve_hour_clock():
    read = parser("time", formats=["%I:%M:%S %p"])
    assert read("12:00:00 AM") == time(0, 0)
    assert read("12:30:05 pm") == time(12, 30, 5)
    assert read("1:02:03 PM") == time(13, 2, 3)
    stamp = parser("datetime", formats=["%m/%d/%y %I:%M %p"], zone=UTC)
    assert stamp("7/25/25 12:00 AM") == datetime(2025, 7, 25, 0, 0, tzinfo=UTC)


def test_unpadded_times_of_day():
    read = parser("time", formats=["%H:%M:%S"])
    assert read("0:10:10") == time(0, 10, 10)
    assert read("9:59:52") == time(9, 59, 52)


def test_naive_datetimes_take_the_zone_and_explicit_offsets_win():
    read = parser("datetime", formats=["iso"], zone=PARIS)
    assert read("2021-01-05T10:00:00") == datetime(2021, 1, 5, 10, tzinfo=PARIS)
    assert read("2021-01-05T10:00:00").utcoffset() == timedelta(hours=1)
    with_offset = read("2021-01-05T10:00:00+02:00")
    assert with_offset.utcoffset() == timedelta(hours=2)
    assert with_offset == datetime(2021, 1, 5, 8, tzinfo=UTC)
    assert read("2022-01-11T03:41:32Z") == datetime(2022, 1, 11, 3, 41, 32, tzinfo=UTC)
    assert read("2021-01-05 10:00:00.250") == datetime(2021, 1, 5, 10, 0, 0, 250000, tzinfo=PARIS)


def test_naive_datetimes_the_clocks_skip_are_refused_and_repeated_ones_are_the_first():
    chicago = ZoneInfo("America/Chicago")
    read = parser("datetime", formats=["%m/%d/%y %I:%M %p", "iso"], zone=chicago)
    with pytest.raises(ValueProblem) as problem:
        read("3/9/25 2:30 AM")
    assert str(problem.value) == (
        "'3/9/25 2:30 AM' does not exist in America/Chicago: "
        "the clocks jump forward from 02:00 to 03:00 on 2025-03-09"
    )
    with pytest.raises(ValueProblem, match=r"^'2025-03-09T02:00:00' does not exist"):
        read(datetime(2025, 3, 9, 2, 0))  # a typed XLSX cell
    assert read("3/9/25 1:59 AM").utcoffset() == timedelta(hours=-6)
    assert read("3/9/25 3:00 AM").utcoffset() == timedelta(hours=-5)
    assert read("11/2/25 1:30 AM").utcoffset() == timedelta(hours=-5)  # the first 1:30, daylight time
    assert read("11/2/25 2:30 AM").utcoffset() == timedelta(hours=-6)
    assert read("2025-03-09T02:30:00-06:00") == datetime(2025, 3, 9, 8, 30, tzinfo=UTC)  # offsets win


def test_dst_gaps_of_half_an_hour_and_at_midnight():
    assert nonexistent(datetime(2025, 10, 5, 2, 10, tzinfo=ZoneInfo("Australia/Lord_Howe"))) == (
        "does not exist in Australia/Lord_Howe: the clocks jump forward from 02:00 to 02:30 on 2025-10-05"
    )
    havana = ZoneInfo("America/Havana")
    assert dst_gap(datetime(2019, 3, 10, 0, 0, tzinfo=havana)) == (
        datetime(2019, 3, 10, 0, 0),
        datetime(2019, 3, 10, 1, 0, tzinfo=havana),
    )
    assert dst_gap(datetime(2019, 3, 10, 1, 0, tzinfo=havana)) is None
    assert dst_gap(datetime(2019, 11, 3, 0, 30, tzinfo=havana)) is None  # repeated, not skipped
    assert nonexistent(datetime(2025, 3, 9, 2, 30, tzinfo=UTC)) is None


def test_percent_z_directive_keeps_the_offset():
    read = parser("datetime", formats=["%Y-%m-%d %H:%M:%S%z"], zone=PARIS)
    assert read("2021-01-05 10:00:00-0500").utcoffset() == timedelta(hours=-5)


def test_excel_cells_for_dates_and_times():
    assert parser("date")(datetime(2021, 1, 2, 0, 0)) == date(2021, 1, 2)
    assert parser("date")(44198.0) == date(2021, 1, 2)
    assert parser("time")(time(9, 12, 58)) == time(9, 12, 58)
    assert parser("time")(0.38400462962962965) == time(9, 12, 58)
    assert parser("datetime", zone=PARIS)(44198.5) == datetime(2021, 1, 2, 12, tzinfo=PARIS)


@st.composite
def moments(draw):
    return draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2068, 12, 31)))


FAST_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%y %I:%M %p",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y%m%d%H%M%S",
]


@given(moments(), st.sampled_from(FAST_FORMATS))
def test_compiled_formats_read_what_strptime_reads(moment, fmt):
    text = moment.strftime(fmt)
    assert compile_format(fmt)(text) == datetime.strptime(text, fmt)


@given(st.text(alphabet="0123456789/:- APM", max_size=14), st.sampled_from(FAST_FORMATS))
def test_compiled_formats_reject_what_strptime_rejects(text, fmt):
    try:
        expected = datetime.strptime(text, fmt)
    except ValueError:
        expected = None
    try:
        actual = compile_format(fmt)(text)
    except ValueError:
        actual = None
    assert actual == expected


def test_unknown_directives_are_refused_up_front():
    with pytest.raises(ValueError):
        check_format("%d/%Q/%Y")
    with pytest.raises(ValueError):
        check_format("no directives")
    check_format("%b %d %Y")  # strptime fallback: month names


# ---- durations ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("4:05", 245.0),
        ("0:02:14", 134.0),
        ("00:00:17", 17.0),
        (" 135:40:34.625", 135 * 3600 + 40 * 60 + 34.625),
        ("-0:01:00", -60.0),
    ],
)
def test_clock_durations(raw, seconds):
    assert parser("duration")(raw) == pytest.approx(seconds)


def test_numeric_durations_by_unit():
    assert parser("duration")("109") == 109.0
    assert parser("duration", unit="milliseconds")("918737") == pytest.approx(918.737)
    assert parser("duration", unit="minutes")("1.5") == 90.0
    assert parser("duration", unit="days")("0.25") == 21600.0
    assert parser("duration", unit="seconds")("1,234") == 1234.0


def test_excel_time_durations():
    read = parser("duration")
    assert read(time(0, 2, 23)) == 143.0
    assert read(timedelta(hours=30, seconds=5)) == 108005.0
    assert parser("duration", unit="days")(0.09930555555555555) == 8580.0
    assert read(109) == 109.0


@pytest.mark.parametrize("raw", ["1:2:3:4", "0:61:00", "1:00:75", "abc", "1:xx"])
def test_malformed_durations(raw):
    with pytest.raises(ValueProblem, match=r"is not a duration|is not a number"):
        parser("duration")(raw)
    with pytest.raises(ValueProblem):
        clock_seconds(raw)


# ---- numbers, percentages, booleans ---------------------------------------------------------------------


def test_numbers_with_separators():
    assert parser("number")("1,575") == 1575.0
    assert parser("number")("-2,285.5") == -2285.5
    assert parser("number", thousands=".", decimal=",")("1.234,5") == 1234.5
    assert parser("number")(3) == 3.0
    assert parser("number")("Infinity") is None
    with pytest.raises(ValueProblem, match="misplaced ','"):
        parser("number")("1,5")
    with pytest.raises(ValueProblem, match="is not a number"):
        parser("number")("12a")


def test_percentages_are_fractions():
    read = parser("percent")
    assert read("94.01%") == pytest.approx(0.9401)
    assert read("100.00%") == pytest.approx(1.0)
    assert read("8,285.64%") == pytest.approx(82.8564)
    assert read("Infinity%") is None
    assert read("94.01") == pytest.approx(0.9401)
    assert parser("percent", unit="fraction")(0.9401) == pytest.approx(0.9401)
    with pytest.raises(ValueProblem, match="not a percentage"):
        read("lots%")


def test_truthy_and_falsy_values():
    read = parser("bool", truthy=["Y"], falsy=["N"])
    assert read("Y") is True
    assert read("n") is False
    assert read(True) is True
    with pytest.raises(ValueProblem) as problem:
        read("maybe")
    assert str(problem.value) == "'maybe' is neither a true value ['Y'] nor a false value ['N']"
    assert parser("bool")("yes") is True
    assert parser("bool")(0) is False


# ---- nulls and sentinels --------------------------------------------------------------------------------


def test_null_tokens_are_trimmed_and_case_insensitive():
    read = parser("number", null_tokens=["", "n/a", "-"])
    assert read("") is None
    assert read("  ") is None
    assert read("N/A") is None
    assert read(" - ") is None
    assert read(None) is None
    assert read("3") == 3.0


def test_per_column_null_tokens_replace_the_defaults():
    read = parser("text", null_tokens=["none"])
    assert read("-") == "-"
    assert read("None") is None


def test_sentinels_match_as_text_and_as_parsed_values():
    read = parser("time", formats=["%H:%M:%S"], sentinels=["0:00:00"])
    assert read("0:00:00") is None
    assert read("00:00:00") is None
    assert read(time(0, 0)) is None
    assert read("0:00:01") == time(0, 0, 1)
    agent = parser("text", sentinels=["NO_SERVER"])
    assert agent("NO_SERVER") is None
    assert agent("SHARON") == "SHARON"


def test_text_from_typed_cells():
    read = parser("text")
    assert read(42.0) == "42"
    assert read(" Jim ") == "Jim"


def test_memo_survives_many_distinct_values():
    read = parser("number")
    for value in range(70_000):
        assert read(str(value)) == float(value)


@given(st.integers(min_value=0, max_value=10_000 * 3600), st.integers(min_value=0, max_value=999))
def test_clock_durations_round_trip(seconds, millis):
    hours, rest = divmod(seconds, 3600)
    text = f" {hours}:{rest // 60:02d}:{rest % 60:02d}.{millis:03d}"
    assert clock_seconds(text) == pytest.approx(seconds + millis / 1000)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_grouped_numbers_and_percentages_round_trip(value):
    assert parser("number")(f"{value:,}") == pytest.approx(float(value))
    assert parser("percent")(f"{value:,}%") == pytest.approx(float(value) / 100)
