from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.scoring.periods import Period, business_day, window


def test_offset_instant_belongs_to_the_team_zone_day():
    chicago = ZoneInfo("America/Chicago")
    assert business_day(datetime(2021, 1, 5, 23, 30, tzinfo=UTC), chicago) == date(2021, 1, 5)
    assert business_day(datetime(2021, 1, 6, 5, 30, tzinfo=UTC), chicago) == date(2021, 1, 5)
    assert business_day(datetime(2021, 1, 6, 6, 30, tzinfo=UTC), chicago) == date(2021, 1, 6)


def test_night_shift_day_start():
    berlin = ZoneInfo("Europe/Berlin")
    three_am = datetime(2021, 3, 10, 2, 0, tzinfo=UTC)  # 03:00 in Berlin
    assert business_day(three_am, berlin, day_start_minutes=4 * 60) == date(2021, 3, 9)
    assert business_day(three_am, berlin) == date(2021, 3, 10)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2021, 3, 14, 4, 59, tzinfo=UTC), date(2021, 3, 13)),  # 23:59 EST before spring forward
        (datetime(2021, 3, 14, 5, 0, tzinfo=UTC), date(2021, 3, 14)),
        (datetime(2021, 11, 7, 3, 59, tzinfo=UTC), date(2021, 11, 6)),  # 23:59 EDT before fall back
        (datetime(2021, 11, 8, 4, 59, tzinfo=UTC), date(2021, 11, 7)),  # 23:59 EST, the 25-hour day
    ],
)
def test_dst_days_neither_skip_nor_double(instant, expected):
    assert business_day(instant, ZoneInfo("America/New_York")) == expected


def test_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        business_day(datetime(2021, 1, 1), ZoneInfo("UTC"))


def test_windows():
    assert window(Period.WEEK, date(2021, 1, 15)) == (date(2021, 1, 11), date(2021, 1, 17))
    assert window(Period.WEEK, date(2021, 1, 15), "sunday") == (date(2021, 1, 10), date(2021, 1, 16))
    assert window(Period.MONTH, date(2021, 2, 10)) == (date(2021, 2, 1), date(2021, 2, 28))
    assert window(Period.QUARTER, date(2021, 11, 30)) == (date(2021, 10, 1), date(2021, 12, 31))
    assert window(Period.MONTH, date(2021, 12, 31)) == (date(2021, 12, 1), date(2021, 12, 31))
    assert window(Period.DAY, date(2021, 3, 14)) == (date(2021, 3, 14), date(2021, 3, 14))
