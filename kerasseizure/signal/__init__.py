"""Numeric transforms on arrays: TensorFlow implementations plus small NumPy/SciPy references."""
