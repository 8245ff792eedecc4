"""Evaluation: metrics (Kaggle KL, weighted F1), cross-validation fold protocols, HMS out-of-fold
scoring and reports. NumPy, pandas and scikit-learn only (no TensorFlow); imported by training,
experiments, export and kaggle alike.
"""
