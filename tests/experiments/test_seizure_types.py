"""SeizureTypeExperiment's data preparation: features built when a row first needs them."""

import pytest

from kerasseizure.experiments.seizure_types import Representations, SeizureTypeExperiment

# Shares `tusz_test_dirs` (tests/corpora.py): the same pytest-xdist worker builds it once.
pytestmark = pytest.mark.xdist_group("tusz_test_dirs")


def test_representations_build_each_once_on_first_use():
    built = []
    features = Representations(lambda rep: built.append(rep) or f"{rep} windows")
    assert built == [] and list(features) == ["fft", "ses"] and len(features) == 2
    assert features["ses"] == "ses windows" and features["ses"] == "ses windows"
    assert built == ["ses"]
    with pytest.raises(KeyError):
        features["ses_single"]
    assert dict(features) == {"fft": "fft windows", "ses": "ses windows"} and built == ["ses", "fft"]


def test_a_baseline_row_never_builds_the_ses_features(tusz_test_dirs, tmp_path, monkeypatch):
    import kerasseizure.pipelines as pipelines
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.experiments.seizure_types import tusz_roots

    real, built = pipelines.build_tusz_features, []

    def recording(corpus, representation, *args, **kwargs):
        built.append(representation)
        return real(corpus, representation, *args, **kwargs)

    monkeypatch.setattr(pipelines, "build_tusz_features", recording)
    settings = load_preset("test").table1
    roots, _ = tusz_roots(settings, 0, synthetic_dir=tusz_test_dirs["synthetic"], log=lambda message: None)
    experiment = SeizureTypeExperiment(settings, {"1.5.2": roots["1.5.2"]}, 0, tmp_path / "results").prepare()
    results = experiment.run_row("k-NN")
    assert built == ["fft"] and set(results) == {"seizure-wise-v1.5.2", "patient-wise-v1.5.2"}
