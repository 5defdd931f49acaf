"""Alembic environment: runs on the connection ``survey.data.migrate`` hands in, or on its own.

On its own (``alembic -c alembic.ini upgrade head`` / ``downgrade 0006``), the database is ``-x url=...``,
else ``sqlalchemy.url`` in the ini file, else Tryghed's own setting (``TRYGHED_DATABASE_URL``, default the
SQLite file in the instance folder). Either way the migrations run through
``survey.data.migrate.migration_connection``: one transaction, SQLite's foreign keys off while tables are
rebuilt and checked before the commit, so a rebuild never cascades a delete into the child tables.
"""

from __future__ import annotations

from alembic import context

from survey.data.migrate import migration_connection
from survey.data.models import Base, postgresql_conditions

config = context.config
postgresql_conditions()  # the metadata as a PostgreSQL database has it (autogenerate)
target_metadata = Base.metadata


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from survey.config import load_config

    return str(load_config()["DATABASE_URL"])


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    if config.config_file_name:  # run by hand (alembic -c): its progress lines on standard error
        from logging.config import fileConfig

        fileConfig(config.config_file_name, disable_existing_loggers=False)
    with migration_connection(database_url()) as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
