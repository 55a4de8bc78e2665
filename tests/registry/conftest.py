"""Registry tests run on SQLite and on a real PostgreSQL server: the ``db_url`` fixture is in
tests/conftest.py (the tamper suite in tests/faults uses it too)."""
