"""Experiments: data -> folds -> fit a fold -> evaluate -> report, in run folders that know their
settings (`runs`).

- `tusz`: one row of table 1 on one fold (`run_tusz_fold`), configured by `TUSZExperimentConfig`.
- `hms`: one HMS variant cross-validated (`run_cv`), configured by `HMSExperimentConfig`.
- `runs`: run identity (fingerprints), `run_folds`, fold results.
- `baselines`: the IBM feature baselines (scikit-learn).
"""
