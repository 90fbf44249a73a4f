from smvue_demo_org.ids import is_valid_id, make_id, org_id, to_18
from smvue_tui.cli.main import main
from smvue_tui.config import app_paths


def test_smvue_home_holds_every_path(tmp_path):
    paths = app_paths({"SMVUE_HOME": str(tmp_path)})
    for p in (paths.config_file, paths.database, paths.token_file, paths.demo_org_cache,
              paths.log_file):
        assert tmp_path in p.parents


def test_case_suffix_matches_salesforce_examples():
    # Known pairs: the suffix encodes which of each 5-char block's chars are capitals.
    assert to_18("001000000000000") == "001000000000000AAA"
    assert to_18("0015000000Gv7qJ") == "0015000000Gv7qJAAR"


def test_made_ids_are_valid_and_ordered():
    ids = [make_id("006", n) for n in (1, 2, 61, 62, 10_000)]
    assert all(is_valid_id(i) and len(i) == 18 and i.startswith("006") for i in ids)
    assert ids == sorted(ids)
    assert org_id(7, False) != org_id(7, True)
    assert not is_valid_id("006XX000004AbCdQZZ")


def test_help_lists_commands(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "demo-org" in out and "login" in out
