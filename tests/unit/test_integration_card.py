from smvue_tui.config import app_paths
from smvue_tui.services.integration_card import load_card
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store


def test_a_connection_whose_login_was_removed_says_so(tmp_path):
    paths = app_paths({"SMVUE_HOME": str(tmp_path)})
    db = open_store(paths.database)
    m.Connection.create(org_id="00D8W0000jX3VYTUA3", environment="demo", login_url="x",
                        instance_url="x")
    card = load_card(paths)
    assert card.connected and card.login_missing  # e.g. after `smvue-tui logout`
    paths.token_file.write_text("{}")
    assert not load_card(paths).login_missing
    db.close()
