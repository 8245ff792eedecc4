from pathlib import Path

import pytest

from kerasseizure.models.summary import TABLE_END, TABLE_START, default_models, markdown_table, models_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"
HEAVY = {"SpectrogramNet (EfficientNetV2B2)", "fused (WaveNet + EfficientNetV2B2)"}


def _documented_rows():
    table = DOC.read_text(encoding="utf-8").split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    return {line.split("|")[1].strip(): line for line in rows}


def test_every_default_model_is_documented():
    assert sorted(_documented_rows()) == sorted(name for name, _, _ in default_models())


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
    for name, _, _ in default_models()
])
def test_documented_parameters_and_macs_match_the_code(name):
    generated = markdown_table(models_table([name])).strip().splitlines()[-1]
    assert generated == _documented_rows()[name]
