from pathlib import Path

import pytest

from kerasseizure import models
from kerasseizure.models.summary import (
    TABLE_END, TABLE_START, default_models, markdown_table, model_row, models_table,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"
HEAVY = {"SpectrogramNet (EfficientNetV2B2)", "fused (WaveNet + EfficientNetV2B2)"}


def _documented_rows():
    table = DOC.read_text(encoding="utf-8").split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    return {line.split("|")[1].strip(): line for line in rows}


def test_every_default_model_is_documented():
    assert sorted(_documented_rows()) == sorted(name for name, _, _ in default_models())


# Rows whose default model another test builds too: the session fixture (tests/models/conftest.py)
# is reused instead of a second build; the builder is checked to be the plain default call.
SHARED = {"SeizureNet (3 members)": ("default_seizurenet", "SeizureNet"),
          "SeizureNet member (24 bins)": ("default_seizurenet_member", "seizurenet_member")}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
    for name, _, _ in default_models()
])
def test_documented_parameters_and_macs_match_the_code(name, request):
    if name in SHARED:
        fixture, builder = SHARED[name]
        build, source = next((b, s) for n, b, s in default_models() if n == name)
        assert build is getattr(models, builder)  # called without arguments by models_table
        rows = [model_row(name, request.getfixturevalue(fixture), source)]
    else:
        rows = models_table([name])
    generated = markdown_table(rows).strip().splitlines()[-1]
    assert generated == _documented_rows()[name]
