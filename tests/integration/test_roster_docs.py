"""docs/roster.md stays true: its examples import in order with the effects it describes, and its error
example prints exactly the lines it shows."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.store.models import Identity, Person, Supervision, Team, TeamMembership
from tests.cli_support import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "roster.md"
README = DOC.parents[1] / "README.md"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    return url


def test_the_examples_import_with_the_effects_the_doc_describes(url: str, tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    examples = re.findall(r"```csv\n(.*?)```", text, re.S)
    assert len(examples) == 4
    for number, example in enumerate(examples):
        path = tmp_path / f"example-{number}.csv"
        path.write_text(example, encoding="utf-8")
        assert "changes." in cli(url, "roster", "import", str(path))
        assert "no changes" in cli(url, "roster", "import", str(path))  # idempotent

    engine = create_engine(url)
    with engine.connect() as connection:
        teams = dict(connection.execute(select(Team.id, Team.key)).all())
        people = dict(connection.execute(select(Person.display_name, Person.id)).all())
        spans = {
            (name, teams[team_id]): (start, end)
            for name, team_id, start, end in connection.execute(
                select(
                    Person.display_name,
                    TeamMembership.team_id,
                    TeamMembership.valid_from,
                    TeamMembership.valid_to,
                ).join(Person, Person.id == TeamMembership.person_id)
            )
        }
        keys = {
            (kind, namespace, key)
            for kind, namespace, key in connection.execute(
                select(Identity.kind, Identity.namespace, Identity.key).where(
                    Identity.person_id == people["Martha Jones"]
                )
            )
        }
        supervised = connection.scalars(
            select(Supervision.team_id).where(Supervision.supervisor_id == people["Sue Boss"])
        ).all()
        blue_zone = connection.scalar(select(Team.timezone).where(Team.key == "blue"))
    engine.dispose()

    assert spans == {
        ("Martha Jones", "blue"): (date(2021, 1, 1), None),
        ("Jim Beam", "blue"): (date(2021, 1, 1), date(2021, 2, 1)),
        ("Jim Beam", "red"): (date(2021, 2, 1), None),
        ("Greg Ory", "red"): (date(2021, 1, 1), date(2021, 3, 1)),
    }
    assert keys == {
        ("source", "pwc", "Martha"),
        ("console", "console", "martha"),
        ("discord", "81384788765712384", "80351110224678912"),
    }
    assert [teams[team_id] for team_id in supervised] == ["blue"]
    assert blue_zone == "Europe/London"


def test_the_error_example_prints_what_the_doc_shows(url: str, tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    first = tmp_path / "first.csv"
    first.write_text(re.findall(r"```csv\n(.*?)```", text, re.S)[0], encoding="utf-8")
    cli(url, "roster", "import", str(first))
    errors = text[text.index("## Errors") :]
    bad_file, shown = re.findall(r"```\n(.*?)```", errors, re.S)
    (tmp_path / "roster.csv").write_text(bad_file, encoding="utf-8")

    assert cli(url, "roster", "import", "roster.csv", code=1) == shown


def test_the_readme_links_the_roster_doc() -> None:
    assert "docs/roster.md" in README.read_text(encoding="utf-8")
