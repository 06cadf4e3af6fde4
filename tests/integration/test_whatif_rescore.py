"""`whatif` agrees with a full recomputation; `rescore` replays under the versions in force, idempotently."""

from datetime import date

from sqlalchemy import func, select

from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.program import default_program_text, parse_program
from bot.scoring.periods import Period
from bot.services import programs
from bot.services.leaderboard import board
from bot.services.ledger import net_points
from bot.services.rescore import rescore
from bot.services.whatif import whatif
from bot.store.models import PointsEntry
from tests.conftest import make_app, shared_file

HEAVIER_CSAT = default_program_text().replace(
    "csat: {target: 4.2, min_samples: 5}", "csat: {target: 4.2, min_samples: 5, weight: 2}"
)


def _import_pwc(app) -> None:
    workbook = shared_file("tabular/pwc_call_center_original.xlsx")
    app.ingest(
        parse_file(workbook, load_mapping("pwc-xlsx"), default_tz=app.program.timezone),
        source="pwc",
        origin="file",
        create_unknown=True,
    )


def _points_board(app) -> dict[str, tuple[float, int]]:
    with app.engine.connect() as connection:
        result = board(connection, app.program, metric="points", period=Period.MONTH, at=date(2021, 1, 15))
    return {entry.name: (round(entry.value, 2), entry.rank) for entry in result.entries}


def test_whatif_with_one_changed_weight_shows_what_a_full_recomputation_gives(tmp_path):
    assert "weight: 2" in HEAVIER_CSAT
    current = make_app(f"sqlite:///{tmp_path / 'current.db'}")
    _import_pwc(current)
    proposed = parse_program(HEAVIER_CSAT, "proposed.yaml").program
    before = net_points(current.engine)
    result = whatif(current.engine, current.history, proposed, period=Period.MONTH, at=date(2021, 1, 15))
    assert net_points(current.engine) == before  # nothing written

    program_file = tmp_path / "proposed.yaml"
    program_file.write_text(HEAVIER_CSAT, encoding="utf-8")
    recomputed = make_app(f"sqlite:///{tmp_path / 'recomputed.db'}", program_file=program_file)
    _import_pwc(recomputed)
    expected = _points_board(recomputed)
    assert {row.name: (round(row.points_then, 2), row.rank_then) for row in result.rows} == expected
    assert {row.name: (round(row.points_now, 2), row.rank_now) for row in result.rows} == _points_board(
        current
    )
    assert any(row.rank_now != row.rank_then for row in result.rows)  # the weight moves someone


def test_rescore_replays_under_the_version_in_force_and_twice_changes_nothing(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fb.db'}")
    _import_pwc(app)
    v1 = app.version
    loaded = parse_program(HEAVIER_CSAT, "v2.yaml")
    v2 = programs.register(app.engine, loaded, app.clock, effective_from=date(2021, 2, 1))
    history = programs.history(app.engine)

    first = rescore(app.engine, app.program, history, app.clock, date(2021, 1, 1))
    assert first.ledger_rows > 0
    ledger = net_points(app.engine)
    assert {version for (_, day, _, version) in ledger if day < date(2021, 2, 1)} == {v1}
    assert {version for (_, day, _, version) in ledger if day >= date(2021, 2, 1)} == {v2}

    with app.engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(PointsEntry))
    second = rescore(app.engine, app.program, history, app.clock, date(2021, 1, 1))
    assert second.ledger_rows == 0
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(PointsEntry)) == rows
    assert net_points(app.engine) == ledger


FCR_IMPROVEMENT = default_program_text().replace(
    "  - {id: handled-day,",
    "  - {metric: fcr, improvement: {baseline_days: 28, per: 0.01, points: 1, cap: 10}}\n"
    "  - {id: handled-day,",
)


def test_whatif_with_an_improvement_rule_where_some_agents_lack_its_metric(tmp_path):
    """The Kaggle sales reps have no FCR: their days need no baseline, and whatif still answers."""
    assert "improvement:" in FCR_IMPROVEMENT
    kaggle = shared_file("tabular/kaggle_call_center_data_with_sales_rep.csv")
    mapping = load_mapping("kaggle-sales-rep")

    def imported(app):
        _import_pwc(app)
        app.ingest(
            parse_file(kaggle, mapping, default_tz=app.program.timezone),
            source=mapping.source,
            origin="file",
            create_unknown=True,
        )
        return app

    current = imported(make_app(f"sqlite:///{tmp_path / 'current.db'}"))
    proposed = parse_program(FCR_IMPROVEMENT, "proposed.yaml").program
    result = whatif(current.engine, current.history, proposed, period=Period.MONTH, at=date(2021, 1, 15))

    program_file = tmp_path / "proposed.yaml"
    program_file.write_text(FCR_IMPROVEMENT, encoding="utf-8")
    recomputed = imported(make_app(f"sqlite:///{tmp_path / 'recomputed.db'}", program_file=program_file))
    assert {row.name: (round(row.points_then, 2), row.rank_then) for row in result.rows} == _points_board(
        recomputed
    )
    assert any(row.points_then > row.points_now for row in result.rows)  # improvement points were earned
