"""tf.data pipelines: corpus manifests -> windows -> features -> batches."""
