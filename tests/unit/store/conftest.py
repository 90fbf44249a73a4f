"""The store-logic tests here that take ``store`` (deals, pipeline) run on SQLite and on
PostgreSQL; the TUI tests keep pipeline_fixtures' SQLite ``store``."""

from tests.unit.store.pipeline_fixtures import store_on_both as store  # noqa: F401
