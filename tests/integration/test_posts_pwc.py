"""Posts built from the real PwC workbook: standings equal the leaderboard's, chart series equal the data."""

import json
from collections import defaultdict
from datetime import date, timedelta

import openpyxl
import pytest

from tests.cli_support import cli
from tests.conftest import shared_file

TEAMS = {"north": ["Martha", "Jim", "Becky"], "south": ["Diane", "Dan", "Greg", "Joe", "Stewart"]}
XLSX = "tabular/pwc_call_center_original.xlsx"


@pytest.fixture(scope="module")
def pwc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("posts")
    url = f"sqlite:///{folder / 'fb.db'}"
    roster = folder / "roster.csv"
    roster.write_text(
        "name,team,team_from,keys\n"
        + "".join(f"{n},{t},2020-12-01,pwc:{n}\n" for t, names in TEAMS.items() for n in names),
        encoding="utf-8",
    )
    cli(url, "db", "upgrade")
    cli(url, "roster", "import", str(roster))
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    cli(url, "say", "--as", "Joe", "/floorboard optout")
    return url


def calls() -> list[dict]:
    sheet = openpyxl.load_workbook(shared_file(XLSX), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def preview(url: str, kind: str, day: str) -> dict:
    return json.loads(
        cli(url, "posts", "preview", "--team", "south", "--kind", kind, "--at", day, "--format", "json")
    )


def test_daily_standings_are_the_leaderboards_public_top_and_the_datas_figures(pwc):
    post = preview(pwc, "daily", "2021-03-10")
    board = json.loads(
        cli(
            pwc,
            "leaderboard",
            "--metric",
            "points",
            "--period",
            "day",
            "--at",
            "2021-03-10",
            "--team",
            "south",
            "--format",
            "json",
        )
    )
    public = [entry for entry in board["entries"] if entry["agent"] != "Joe"]
    shown = public[: min(5, len(public) // 2)]
    assert [(e["agent"], e["value"]) for e in post["top"]] == [(e["agent"], e["value"]) for e in shown]
    assert [e["rank"] for e in post["top"]] == list(range(1, len(shown) + 1))
    assert post["ranked"] == len(board["entries"])
    assert "Joe" not in json.dumps(post)

    south = set(TEAMS["south"])
    day = [
        c for c in calls() if c["Date"] == "2021-03-10" and c["Agent"] in south and c["Answered (Y/N)"] == "Y"
    ]
    ratings = [c["Satisfaction rating"] for c in day if c["Satisfaction rating"] is not None]
    figures = {f["metric"]: f for f in post["figures"]}
    assert figures["csat"]["value"] == pytest.approx(sum(ratings) / len(ratings), rel=1e-9)
    assert figures["csat"]["samples"] == len(ratings)
    assert figures["fcr"]["value"] == pytest.approx(
        sum(c["Resolved"] == "Y" for c in day) / len(day), rel=1e-9
    )
    assert figures["handled"]["value"] == pytest.approx(len(day) / 5)


def test_weekly_recap_chart_series_are_the_teams_weekly_figures(pwc, tmp_path):
    chart = tmp_path / "recap.png"
    out = cli(
        pwc,
        "posts",
        "preview",
        "--team",
        "south",
        "--kind",
        "weekly",
        "--at",
        "2021-03-12",
        "--format",
        "json",
        "--chart",
        str(chart),
    )
    post = json.loads(out)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert post["chart"]["bytes"] == chart.stat().st_size
    weeks = [date(2021, 3, 8) - timedelta(days=7 * back) for back in range(5, -1, -1)]
    sums: dict[tuple[str, date], list[float]] = defaultdict(lambda: [0.0, 0])
    for c in calls():
        if c["Agent"] not in TEAMS["south"] or c["Answered (Y/N)"] != "Y":
            continue
        day = date.fromisoformat(c["Date"])
        if day > date(2021, 3, 12):
            continue  # the Friday recap counts its week up to Friday, as it would have on the day
        week = day - timedelta(days=day.weekday())
        for metric, value in (
            ("fcr", c["Resolved"] == "Y"),
            ("handled", 1),
            ("csat", c["Satisfaction rating"]),
        ):
            if value is None:
                continue
            sums[(metric, week)][0] += value
            sums[(metric, week)][1] += 1
    series = {line["metric"]: line for line in post["chart"]["series"]}
    assert series["csat"]["weeks"] == [week.isoformat() for week in weeks]
    assert series["csat"]["values"] == pytest.approx(
        [sums[("csat", w)][0] / sums[("csat", w)][1] for w in weeks]
    )
    assert series["fcr"]["values"] == pytest.approx(
        [sums[("fcr", w)][0] / sums[("fcr", w)][1] for w in weeks]
    )
    assert series["handled"]["values"] == pytest.approx([sums[("handled", w)][1] / 5 for w in weeks])
    assert "Joe" not in json.dumps(post["top"]) + json.dumps(post["movers"])
    assert len(post["top"]) == 2  # 4 public agents ranked: never more than half is posted


def test_preview_text_goes_through_the_console_adapter(pwc):
    out = cli(pwc, "posts", "preview", "--team", "south", "--kind", "weekly", "--at", "2021-03-12")
    assert "[#south] Weekly recap, team south, week 2021-03-08 to 2021-03-14" in out
    assert "[file: Team south trend, week 2021-03-08 to 2021-03-14 (recap-south-2021-03-08.png," in out
    assert "Joe" not in out


def test_a_chart_path_in_a_missing_directory_is_one_line_naming_it(pwc, tmp_path):
    chart = tmp_path / "nonexistent" / "dir" / "x.png"
    args = ["posts", "preview", "--team", "south", "--kind", "weekly", "--at", "2021-03-12"]
    out = cli(pwc, *args, "-f", "json", "--chart", str(chart), code=1)
    assert out == (
        f"error: cannot write the chart to {chart}: the directory {chart.parent} does not exist; "
        "create it or choose another --chart path\n"
    )
    assert not chart.parent.exists()


def test_posts_preview_takes_f_for_format(pwc):
    short = json.loads(cli(pwc, "posts", "preview", "--team", "south", "--at", "2021-03-10", "-f", "json"))
    assert short == preview(pwc, "daily", "2021-03-10")
