"""The local store: Peewee models over SQLite in WAL mode (the UI reads while sync writes)."""
