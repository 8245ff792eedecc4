"""Evaluation: metrics (Kaggle KL, weighted F1), cross-validation fold protocols, HMS out-of-fold
scoring, event scoring of seizure detection (`events`: NEDC OVLP / TAES / EPOCH and SzCORE through
timescoring) and reports. NumPy, pandas, scikit-learn and timescoring only (no TensorFlow);
imported by training, experiments, export and kaggle alike.
"""
