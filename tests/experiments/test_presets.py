"""Presets: `--max-steps` turns any preset into a smoke run whose runs never mix with full ones."""

import pytest

from kerasseizure.experiments.presets import PresetError, load_preset


def test_max_steps_caps_every_fit_of_every_table_at_one_short_epoch():
    paper = load_preset("paper")
    capped = paper.with_max_steps(3)
    assert paper.with_max_steps(None) is paper
    assert capped.table1["neural"]["max_steps_per_epoch"] == 3 and capped.table1["neural"]["epochs"] == 1
    assert capped.table2["model"]["max_steps_per_epoch"] == 3 and capped.table2["model"]["epochs"] == 1
    assert capped.table3["max_steps_per_epoch"] == 3 and capped.table3["teacher"]["epochs"] == 1
    assert capped.table4["max_steps_per_epoch"] == 3 and capped.table4["student"]["epochs"] == 1
    # model sizes stay the preset's, and the preset itself is unchanged
    assert capped.table1["seizurenet"] == paper.table1["seizurenet"] and "max_steps_per_epoch" not in paper.table1["neural"]

    from kerasseizure.experiments.detection import row_configs as table4_configs
    from kerasseizure.experiments.distillation import row_configs as table3_configs
    from kerasseizure.experiments.harmful_activity import variant_configs
    from kerasseizure.experiments.seizure_types import row_configs as table1_configs

    assert table1_configs(capped.table1, 0)["distilled"].teacher.max_steps_per_epoch == 3
    assert {c.max_steps_per_epoch for c in variant_configs(capped.table2, 0).values()} == {3}
    assert {c["max_steps_per_epoch"] for c in table3_configs(capped.table3, 0).values()} == {3}
    assert {c["max_steps_per_epoch"] for c in table4_configs(capped.table4, 0).values()} == {3}
    assert table1_configs(capped.table1, 0)["ensemble"].to_dict() != table1_configs(paper.table1, 0)["ensemble"].to_dict()
    with pytest.raises(PresetError, match="max-steps"):
        paper.with_max_steps(0)


def test_a_file_without_table4_loads_and_refuses_only_table4(tmp_path):
    import yaml

    values = load_preset("quick").to_dict()
    assert set(values) == {"table1", "table2", "table3", "table4"}
    del values["table4"]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(values))
    mine = load_preset(path)
    assert mine.section("table1") == load_preset("quick").table1 and "table4" not in mine.to_dict()
    assert mine.with_max_steps(2).table4 is None
    with pytest.raises(PresetError, match="no 'table4' section"):
        mine.section("table4")
    values["table4"] = dict(load_preset("quick").table4, background_ratio=0)
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(PresetError, match="background_ratio"):
        load_preset(path)
