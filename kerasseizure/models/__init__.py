"""Keras functional models (keras.ops only; no file reading, no tf.* inside a model)."""
