"""The local store: Peewee models over SQLite in WAL mode (the UI reads while sync writes).

The interface the sync writes through is backend-neutral: a peewee ``Database`` with the models
bound (``db.open_store`` opens the embedded SQLite one), every write on one ``StoreWriter`` thread
(``writer_thread``), pages upserted by ``writer`` and scope rules applied by ``scope``, whose SQL
uses the database's own placeholder. Nothing outside this package names SQLite
(tests/unit/test_layers.py), so a second backend is an addition here, not an edit of the sync.
"""
