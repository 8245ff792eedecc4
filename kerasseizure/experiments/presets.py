"""Named presets: one YAML file per preset (`test`, `quick`, `paper`, or a user's own), validated.

A preset file holds one section per table: `table1` (TUSZ seizure types), `table2` (HMS),
`table3` (distillation and export) and `table4` (seizure detection; optional in a user's file). Each section is validated against its dataclass below:
unknown keys and values of the wrong type are refused with the file and the key path named; the
experiment settings inside (`table1.neural`, `table2.model`, ...) are checked against the
experiment configurations (`TUSZExperimentConfig`, `HMSExperimentConfig`). The tables, the
`kerasseizure train` command and `kerasseizure config show` all read presets through `load_preset`.

>>> preset = load_preset("test")
>>> preset.name, preset.table1["max_folds"]
('test', 1)
"""

import copy
import dataclasses
import typing
from pathlib import Path

from kerasseizure.errors import KerasSeizureError

PRESET_DIR = Path(__file__).with_name("presets")
PRESETS = ("test", "quick", "paper")
TABLES = ("table1", "table2", "table3", "table4")
MAX_STEPS_HELP = ("a smoke run: every fit trains one epoch of at most N batches (models at the preset's size, "
                  "evaluated and reported as usual; the cap is part of the run's identity)")


class PresetError(KerasSeizureError, ValueError):
    """A preset file is missing, unreadable, or holds unknown keys or values of the wrong type."""


# ------------------------------------------------------------------------------ schema


@dataclasses.dataclass
class Table1Baselines:
    train_window_stride: int
    eval_window_stride: int
    params: typing.Dict[str, dict]


@dataclasses.dataclass
class Table1Settings:
    """Table 1: corpora per TUSZ version (`make_tusz_corpus` settings), folds, and the rows' settings.

    `corpus` may name one version only: a synthetic run then covers that version's protocols.
    """

    description: str
    corpus: typing.Dict[str, dict]
    max_folds: typing.Optional[int]
    baselines: Table1Baselines
    neural: dict  # TUSZExperimentConfig fields shared by the neural rows
    seizurenet: dict  # SeizureNet builder arguments (member and ensemble)
    student: dict  # student builder arguments
    distillation: dict  # TUSZExperimentConfig distillation fields


@dataclasses.dataclass
class Table2Settings:
    """Table 2: the HMS corpus (`make_hms_corpus` settings, null = demo), folds, model settings, variants."""

    corpus: typing.Optional[dict]
    fold_indices: typing.Optional[typing.List[int]]
    model: dict  # HMSExperimentConfig fields shared by every variant
    variants: typing.List[str]
    lr: typing.Optional[typing.Dict[str, typing.List[float]]] = None  # per model: one rate per epoch
    model_overrides: typing.Dict[str, dict] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Table3Teacher:
    model: dict  # SeizureNet builder arguments ({} = the default SeizureNet)
    epochs: int
    lr: float


@dataclasses.dataclass
class Table3Students:
    sizes: typing.List[str]
    epochs: int
    lr: float


@dataclasses.dataclass
class Table3Export:
    calibration_windows: int
    verify_windows: int
    min_agreement: typing.Optional[float]


@dataclasses.dataclass
class Table3Latency:
    runs: int
    warmup: int


@dataclasses.dataclass
class NeuralTraining:
    """How the networks of tables 3 and 4 train (batches, window strides, BatchNorm statistics)."""

    batch_size: int
    train_window_stride: int
    eval_window_stride: int
    bn_momentum: typing.Optional[float]
    recompute_batchnorm: typing.Optional[int]


@dataclasses.dataclass
class Table3Settings(NeuralTraining):
    """Table 3: the teacher, the students, distillation, quantizations, export checks and latency."""

    corpus_size: str
    folds: typing.List[int]
    teacher: Table3Teacher
    students: Table3Students
    quantizations: typing.List[str]
    distillation: dict
    export: Table3Export
    latency: Table3Latency
    max_steps_per_epoch: typing.Optional[int] = None  # a smoke run's cap (`--max-steps`)


@dataclasses.dataclass
class Table4Window:
    wl: float
    ws: float


@dataclasses.dataclass
class Table4Student:
    size: str
    epochs: int
    lr: float


@dataclasses.dataclass
class Table4Detector:
    smooth_windows: int
    min_duration_s: float
    thresholds: typing.List[float]  # candidates; the one with the best SzCORE event F1 on dev is used


@dataclasses.dataclass
class Table4Streaming:
    chunk_seconds: typing.List[float]  # chunk lengths the student's stream is timed with
    recordings: typing.Optional[int]  # eval recordings timed (null: all)


@dataclasses.dataclass
class Table4Settings(NeuralTraining):
    """Table 4: seizure detection on whole recordings (TUSZ v2.0.x release split)."""

    corpus: dict  # make_tusz_corpus settings of the synthetic v2.0.3 corpus
    window: Table4Window
    background_ratio: float
    teacher: Table3Teacher
    student: Table4Student
    distillation: dict
    detector: Table4Detector
    export: Table3Export
    streaming: Table4Streaming
    max_steps_per_epoch: typing.Optional[int] = None


SECTIONS = {"table1": Table1Settings, "table2": Table2Settings, "table3": Table3Settings, "table4": Table4Settings}
# Sections a preset file may leave out (a user's file written before table 4 existed).
OPTIONAL_SECTIONS = ("table4",)


# ------------------------------------------------------------------------------ validation


def _type_name(kind):
    origin = typing.get_origin(kind)
    if origin is typing.Union:
        return " or ".join(_type_name(k) for k in typing.get_args(kind))
    if origin is not None:
        return origin.__name__
    return {type(None): "null", int: "an integer", float: "a number", str: "text", bool: "true/false",
            dict: "a mapping", list: "a list"}.get(kind, getattr(kind, "__name__", str(kind)))


def _check(value, kind, where):
    """`value` checked (recursively) against the annotation `kind`; PresetError naming `where`."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union:
        for option in args:
            try:
                return _check(value, option, where)
            except PresetError:
                continue
        raise PresetError(f"{where}: expected {_type_name(kind)}, got {value!r}")
    if dataclasses.is_dataclass(kind):
        return validate_fields(kind, value, where)
    if kind is type(None):
        if value is not None:
            raise PresetError(f"{where}: expected null, got {value!r}")
        return None
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = " (YAML reads 3e-5 as text: write 3.0e-5)" if isinstance(value, str) else ""
            raise PresetError(f"{where}: expected a number, got {value!r}{hint}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PresetError(f"{where}: expected an integer, got {value!r}")
        return value
    base = origin or kind
    if base in (list, dict, str, bool) and not isinstance(value, base):
        raise PresetError(f"{where}: expected {_type_name(kind)}, got {value!r}")
    if base is list and args:
        return [_check(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if base is dict and args:
        return {str(key): _check(item, args[1], f"{where}.{key}") for key, item in value.items()}
    return value


def validate_fields(cls, values, where):
    """The fields of dataclass `cls` from the mapping `values`, each checked against its annotation.

    Returns a plain dict (nested dataclasses as dicts). Unknown and missing keys are refused.
    """
    if not isinstance(values, dict):
        raise PresetError(f"{where}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields), key=str)
    if unknown:
        raise PresetError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(fields)})")
    out = {}
    for name, field in fields.items():
        if name in values:
            out[name] = _check(values[name], hints[name], f"{where}.{name}")
        elif field.default is not dataclasses.MISSING:
            out[name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            out[name] = field.default_factory()
        else:
            raise PresetError(f"{where}: missing key {name!r}")
    return out


def _check_experiment_fields(cls, values, where, fixed=()):
    """Check a partial experiment configuration against the experiment dataclass `cls`'s annotations."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in fields or key in fixed:
            known = ", ".join(k for k in fields if k not in fixed)
            raise PresetError(f"{where}: unknown key {key!r} (known: {known})")
        kind = hints[key]
        if fields[key].default is None:
            kind = typing.Optional[kind]
        if kind is not object:
            _check(value, kind, f"{where}.{key}")


def _check_corpus(make, settings, where):
    """The synthetic corpus settings must be arguments of the writer `make` (and give a size)."""
    import inspect

    known = [name for name in inspect.signature(make).parameters
             if name not in ("out_dir", "overwrite", "seed", "version")]
    for key in settings:
        if key not in known:
            raise PresetError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    if "size" not in settings:
        raise PresetError(f"{where}: missing key 'size'")


def _check_table1(section, where):
    from kerasseizure.experiments.baselines import BASELINES
    from kerasseizure.experiments.seizure_types import VERSIONS
    from kerasseizure.experiments.tusz_config import TUSZExperimentConfig
    from kerasseizure.io.synthetic import make_tusz_corpus

    if not section["corpus"]:
        raise PresetError(f"{where}.corpus: give the synthetic corpus settings of {' and/or '.join(VERSIONS)}")
    for version, settings in section["corpus"].items():
        if version not in VERSIONS:
            raise PresetError(f"{where}.corpus: unknown key {version!r} (known: {', '.join(VERSIONS)})")
        _check_corpus(make_tusz_corpus, settings, f"{where}.corpus.{version}")

    fixed = ("kind", "name", "baseline", "baseline_params", "model", "input_name", "teacher", "seed")
    _check_experiment_fields(TUSZExperimentConfig, section["neural"], f"{where}.neural", fixed)
    _check_experiment_fields(TUSZExperimentConfig, section["distillation"], f"{where}.distillation", fixed)
    for name in section["baselines"]["params"]:
        if name not in BASELINES:
            raise PresetError(f"{where}.baselines.params: unknown baseline {name!r} (known: {', '.join(BASELINES)})")


def _check_table2(section, where):
    from kerasseizure.experiments.hms_config import MODELS, VARIANTS, HMSExperimentConfig
    from kerasseizure.io.synthetic import make_hms_corpus

    if section["corpus"] is not None:
        _check_corpus(make_hms_corpus, section["corpus"], f"{where}.corpus")
    fixed = ("name", "model", "seed")
    _check_experiment_fields(HMSExperimentConfig, section["model"], f"{where}.model", fixed)
    for model, overrides in section["model_overrides"].items():
        if model not in MODELS:
            raise PresetError(f"{where}.model_overrides: unknown model {model!r} (known: {', '.join(MODELS)})")
        _check_experiment_fields(HMSExperimentConfig, overrides, f"{where}.model_overrides.{model}", fixed)
    for variant in section["variants"]:
        if variant not in VARIANTS:
            raise PresetError(f"{where}.variants: unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    needed = {VARIANTS[v]["model"] for v in section["variants"]}
    if section["lr"] is not None and needed - set(section["lr"]):
        raise PresetError(f"{where}.lr: no rates for {sorted(needed - set(section['lr']))}")


def _check_table3(section, where):
    from kerasseizure.models.students import STUDENT_SIZES

    for size in section["students"]["sizes"]:
        if size not in STUDENT_SIZES:
            raise PresetError(f"{where}.students.sizes: unknown size {size!r} (known: {', '.join(STUDENT_SIZES)})")


def _check_table4(section, where):
    from kerasseizure.experiments.tusz_config import TUSZExperimentConfig
    from kerasseizure.io.synthetic import make_tusz_corpus
    from kerasseizure.models.students import STUDENT_SIZES

    _check_corpus(make_tusz_corpus, section["corpus"], f"{where}.corpus")
    if section["student"]["size"] not in STUDENT_SIZES:
        raise PresetError(f"{where}.student.size: unknown size {section['student']['size']!r} "
                          f"(known: {', '.join(STUDENT_SIZES)})")
    fixed = ("kind", "name", "baseline", "baseline_params", "model", "input_name", "teacher", "seed")
    _check_experiment_fields(TUSZExperimentConfig, section["distillation"], f"{where}.distillation", fixed)
    if not section["background_ratio"] > 0:
        raise PresetError(f"{where}.background_ratio: must be > 0, got {section['background_ratio']}")
    thresholds = section["detector"]["thresholds"]
    if not thresholds or not all(0 < t <= 1 for t in thresholds):
        raise PresetError(f"{where}.detector.thresholds: give one or more values in (0, 1], got {thresholds}")
    if not section["streaming"]["chunk_seconds"] or min(section["streaming"]["chunk_seconds"]) <= 0:
        raise PresetError(f"{where}.streaming.chunk_seconds: give one or more positive lengths")


CHECKS = {"table1": _check_table1, "table2": _check_table2, "table3": _check_table3, "table4": _check_table4}


# ------------------------------------------------------------------------------ loading


@dataclasses.dataclass(frozen=True)
class Preset:
    """A validated preset: its name, source file, and one settings dict per table."""

    name: str
    path: Path
    table1: dict
    table2: dict
    table3: dict
    table4: dict = None  # None: the file has no table4 section

    def section(self, table):
        """The settings of `table` ("table1" ... "table4")."""
        if table not in TABLES:
            raise PresetError(f"unknown table {table!r} (known: {', '.join(TABLES)})")
        if getattr(self, table) is None:
            raise PresetError(f"{self.path}: no {table!r} section (copy one from `kerasseizure config show quick`)")
        return getattr(self, table)

    def to_dict(self):
        """The sections, as a preset file holds them."""
        return {table: self.section(table) for table in TABLES if getattr(self, table) is not None}

    def with_max_steps(self, max_steps):
        """This preset with every fit cut to one epoch of at most `max_steps` batches (None: unchanged).

        A smoke run of a preset (`--max-steps` of the table commands and `kerasseizure train`):
        every model is built at the preset's size, trained a few steps, evaluated, exported and
        reported, so that a configuration error shows in minutes, not at the end of a long run.
        The cap is part of each run's identity, so a capped run never mixes with a full one.
        """
        if max_steps is None:
            return self
        if int(max_steps) < 1:
            raise PresetError(f"--max-steps must be >= 1, got {max_steps}")
        values = copy.deepcopy(self.to_dict())
        values["table1"]["neural"].update(epochs=1, max_steps_per_epoch=int(max_steps))
        values["table2"]["model"].update(epochs=1, stage2_epochs=1, max_steps_per_epoch=int(max_steps))
        values["table3"]["teacher"]["epochs"] = values["table3"]["students"]["epochs"] = 1
        values["table3"]["max_steps_per_epoch"] = int(max_steps)
        if "table4" in values:
            values["table4"]["teacher"]["epochs"] = values["table4"]["student"]["epochs"] = 1
            values["table4"]["max_steps_per_epoch"] = int(max_steps)
        return dataclasses.replace(self, **values)


def preset_path(preset):
    """The YAML file of a preset name (`test`, `quick`, `paper`) or of a path to a user's file."""
    if str(preset) in PRESETS:
        return PRESET_DIR / f"{preset}.yaml"
    path = Path(preset).expanduser()
    if not path.is_file():
        raise PresetError(f"{preset}: neither a preset name ({', '.join(PRESETS)}) nor a preset file")
    return path


def load_preset(preset):
    """The validated `Preset` of a name or a YAML file.

    Args:
        preset: "test", "quick", "paper", or the path of a YAML file with the same layout.
    """
    import yaml

    path = preset_path(preset)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PresetError(f"{path}: cannot read the preset ({type(error).__name__}: {error})") from error
    if not isinstance(values, dict):
        raise PresetError(f"{path}: a preset file holds a mapping of {', '.join(TABLES)}")
    unknown = sorted(set(values) - set(TABLES), key=str)
    if unknown:
        raise PresetError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(TABLES)})")
    sections = {}
    for table in TABLES:
        if table not in values:
            if table in OPTIONAL_SECTIONS:
                continue
            raise PresetError(f"{path}: missing section {table!r}")
        sections[table] = validate_fields(SECTIONS[table], values[table], f"{path}: {table}")
        CHECKS[table](sections[table], f"{path}: {table}")
    name = str(preset) if str(preset) in PRESETS else path.stem
    return Preset(name, path, **sections)
