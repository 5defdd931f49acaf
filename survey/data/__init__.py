"""The data model: SQLAlchemy models, the database engine and sessions, Alembic migrations."""
