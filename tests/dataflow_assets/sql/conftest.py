from tests.sql_support import mariadb_bookshop, postgres_bookshop, sqlite_bookshop  # noqa: F401 (fixtures)
