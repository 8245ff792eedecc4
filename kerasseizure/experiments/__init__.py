"""Experiments: data -> folds -> fit a fold -> evaluate -> report, in run folders that know their
settings (`runs`).

- `protocol`: the `Experiment` protocol; `seizure_types`, `harmful_activity` and `distillation`
  implement it for tables 1, 2 and 3.
- `presets`: the YAML presets (`test`, `quick`, `paper`, a user's file), validated.
- `tusz`: one row of table 1 on one fold (`run_tusz_fold`), configured by `TUSZExperimentConfig`.
- `hms`: one HMS variant cross-validated (`run_cv`), configured by `HMSExperimentConfig`.
- `runs`: run identity (fingerprints), `run_folds`, fold results.
- `baselines`: the IBM feature baselines (scikit-learn).
- `plan`: run plans (`--plan`): counts, model sizes, measured step times, projected wall time.
"""
