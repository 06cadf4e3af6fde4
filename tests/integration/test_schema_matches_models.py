"""The migrations build exactly the schema bot/store/models.py declares (badge awards included)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.store.database import upgrade
from bot.store.models import Base


def test_migrations_and_models_agree(database_url):
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        unique = inspect(connection).get_unique_constraints("badge_awards")
    engine.dispose()
    assert [c["column_names"] for c in unique] == [["person_id", "badge", "tier", "period_key"]]
