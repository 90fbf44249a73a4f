"""The app shell: starts on Connect without a connection, every mode opens, keys have ids."""

from __future__ import annotations

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.connect import ConnectScreen


def _services(tmp_path):
    paths = app_paths({"SMVUE_HOME": str(tmp_path)})
    return AppServices(paths=paths, db=open_store(paths.database), background=False)


async def test_starts_on_connect_and_every_mode_opens(tmp_path):
    app = SmvueApp(_services(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, ConnectScreen)
        for key, mode in (("p", "pipelines"), ("t", "team"), ("f", "fields"),
                          ("i", "integrations"), ("s", "sync")):
            await pilot.press(key)
            assert app.current_mode == mode
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"
        assert "under [keys]" in str(app.screen.query_one(".title").render())


async def test_connected_store_opens_pipelines_and_keys_remap(tmp_path):
    services = _services(tmp_path)
    m.Connection.create(org_id="00D8W0000jX3VYTUA3", environment="demo", login_url="x",
                        instance_url="x")
    services.paths.config_dir.mkdir(parents=True)
    services.paths.config_file.write_text('[keys]\nteam = "ctrl+t"\n')
    app = SmvueApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.current_mode == "pipelines"
        await pilot.press("ctrl+t")
        assert app.current_mode == "team"
    assert all(b.id for b in SmvueApp.BINDINGS)


async def test_synced_store_fixture_has_deals(synced_services):
    assert m.Opportunity.select().count() > 100
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)):
        assert app.current_mode == "pipelines"
