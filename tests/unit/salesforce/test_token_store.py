"""Token file: 0600 from creation, 0700 folder, atomic replace, damaged files handled."""

from __future__ import annotations

import json
import os
import stat

import pytest

from smvue_tui.config import app_paths
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError
from tests.unit.salesforce.auth_helpers import ACCESS, REFRESH, REFRESH_2, make_creds


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_with_owner_only_modes():
    store = TokenStore()
    assert store.path == app_paths().token_file
    assert store.load() is None
    creds = make_creds(environment=resolve_environment("acme.my.salesforce.com"))
    store.save(creds)
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700
    assert store.load() == creds
    assert json.loads(store.path.read_text())["refresh_token"] == REFRESH


def test_file_is_never_wider_than_0600_even_with_a_permissive_umask(monkeypatch):
    created: list[int] = []
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            created.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    old = os.umask(0)
    try:
        monkeypatch.setattr(os, "open", spy_open)
        TokenStore().save(make_creds())
    finally:
        os.umask(old)
    assert created == [0o600]
    assert mode(TokenStore().path) == 0o600


def test_write_is_atomic_a_failed_write_keeps_the_old_file(monkeypatch):
    store = TokenStore()
    store.save(make_creds())

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.save(make_creds(refresh_token=REFRESH_2))
    monkeypatch.undo()
    assert store.load().refresh_token == REFRESH
    assert sorted(p.name for p in store.path.parent.iterdir()) == [store.path.name]


def test_save_replaces_via_os_replace(monkeypatch):
    store = TokenStore()
    calls = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((a, b)), real_replace(a, b)))
    store.save(make_creds())
    assert len(calls) == 1 and str(calls[0][1]) == str(store.path)
    assert str(calls[0][0]) != str(store.path)


@pytest.mark.parametrize(("content", "words"), [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe\x00", "damaged"),
    (json.dumps({"version": 1, "instance_url": "https://x.my.salesforce.com"}).encode(),
     "access_token is missing"),
    (json.dumps({"version": 99}).encode(), "format version"),
])
def test_damaged_file_is_a_clear_error_and_is_not_touched(content, words):
    store = TokenStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    with pytest.raises(TokenStoreError, match=words) as info:
        store.load()
    assert "smvue-tui logout" in info.value.remedy
    assert store.path.read_bytes() == content


def test_error_message_never_contains_the_token():
    store = TokenStore()
    data = make_creds().to_dict()
    data["environment"] = {"login_url": "ftp://nope"}
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps(data))
    with pytest.raises(TokenStoreError) as info:
        store.load()
    assert ACCESS not in str(info.value) and REFRESH not in str(info.value)


def test_saving_over_a_damaged_file_keeps_it_aside(caplog):
    store = TokenStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"garbage")
    store.save(make_creds())
    kept = [p for p in store.path.parent.iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == b"garbage"
    assert "unreadable token file was kept" in caplog.text
    assert store.load() == make_creds()


def test_clear_and_loose_modes_are_tightened():
    store = TokenStore()
    assert store.clear() is False
    store.save(make_creds())
    os.chmod(store.path, 0o644)
    assert store.load() is not None
    assert mode(store.path) == 0o600
    assert store.clear() is True
    assert not store.path.exists() and store.load() is None


def test_a_symlinked_token_file_is_refused_and_its_target_left_alone(tmp_path):
    """Issue 20 item 6: a link planted at the token path is never followed — its target is
    neither read as our login nor chmod-ed."""
    target = tmp_path / "someone-elses.json"
    target.write_text(json.dumps(make_creds().to_dict()))
    os.chmod(target, 0o644)
    store = TokenStore(tmp_path / "data" / "salesforce-token.json")
    store.path.parent.mkdir(mode=0o700)
    store.path.symlink_to(target)
    with pytest.raises(TokenStoreError) as caught:
        store.load()
    assert "symbolic link" in str(caught.value)
    assert mode(target) == 0o644
    # Saving a login moves the link aside (the link, not its target) and writes a real file.
    creds = make_creds(environment=resolve_environment("acme.my.salesforce.com"))
    store.save(creds)
    assert not store.path.is_symlink() and mode(store.path) == 0o600
    assert store.load() == creds
    assert json.loads(target.read_text()) == make_creds().to_dict() and mode(target) == 0o644
    dangling = TokenStore(tmp_path / "elsewhere" / "salesforce-token.json")
    dangling.path.parent.mkdir()
    dangling.path.symlink_to(tmp_path / "nothing-here")
    with pytest.raises(TokenStoreError):
        dangling.load()
