"""Alembic environment: the URL comes from `mantle.db.migrate.alembic_config`, never a file."""

from alembic import context
from sqlalchemy import create_engine, pool

from mantle.db import dialects, migrate
from mantle.db.engine import prepare_sqlite_file
from mantle.db.models import Base

config = context.config
url = config.attributes["database_url"]


def run_migrations() -> None:
    prepare_sqlite_file(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    dialects.configure_engine(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=dialects.is_sqlite(url),
            compare_type=True,
            include_object=migrate.include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
