"""What every table's end-to-end test checks of its run folders after a complete run."""

import json

from reproduce.common import run_table


def check_run_identity(main, name, results, row_dir, capsys):
    """A finished table refuses other settings, damaged fingerprints, and cleans killed writes.

    Args:
        main: callable(extra argv list) running the table into `results` with its test settings.
        name: the table's name (`run_table` prints its errors).
        results: the results folder of that run.
        row_dir: one run folder of the run (holding run.json).
        capsys: pytest's capture fixture.
    """
    capsys.readouterr()
    marker = row_dir / "run.json"
    fingerprint = json.loads(marker.read_text())["fingerprint"]

    # another seed: one line naming the difference, nothing overwritten
    assert run_table(lambda: main(["--seed", "1"]), name) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed: 0 -> 1" in err[0] and "--overwrite" in err[0], err
    assert json.loads(marker.read_text())["fingerprint"] == fingerprint

    # another preset (the test preset with the checked row's settings changed): refused the same way
    other = smoke_preset(results.parent / "other-preset", _change_every_checked_row)
    assert run_table(lambda: main(["--preset", other]), name) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a run made with other settings" in err[0] and "--overwrite" in err[0], err
    assert json.loads(marker.read_text())["fingerprint"] == fingerprint

    # a damaged fingerprint is refused, not trusted
    saved = marker.read_text()
    marker.write_text(saved[: len(saved) // 2])
    assert run_table(lambda: main([]), name) == 2
    assert "damaged run.json" in capsys.readouterr().err
    marker.write_text(saved)

    # killed while writing: the temporary file is removed at the next run, the finished work reused
    stale = row_dir / ".result.json.0123456789ab.partial.json"
    stale.write_text('{"metr')
    assert run_table(lambda: main([]), name) == 0
    assert not stale.exists()
    return json.loads((results / "record.json").read_text())


def _change_every_checked_row(values):
    """A setting of each row `check_run_identity` is given: table 1 k-NN, table 2 temporal, tables 3
    and 4 teacher."""
    values["table1"]["baselines"]["params"]["knn"] = {"n_neighbors": 3}
    values["table2"]["model"]["batch_size"] = 4
    values["table3"]["teacher"]["epochs"] += 1
    values["table4"]["teacher"]["epochs"] += 1


def smoke_preset(tmp_path, change):
    """The test preset with `change(preset dict)` applied, as a preset file of a user's own."""
    import yaml

    from kerasseizure.experiments.presets import load_preset

    values = load_preset("test").to_dict()
    change(values)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)
