"""Keras functional models (keras.ops only; no file reading, no tf.* inside a model).

Every builder returns a `keras.Model` whose output is float32 logits from a layer named
"logits"; `with_probabilities(model)` adds the float32 softmax where probabilities are needed.
"""

from kerasseizure.models.compact_spectrogram_net import CompactSpectrogramNet
from kerasseizure.models.conv3d import SpectroTemporal3D
from kerasseizure.models.fusion import fused
from kerasseizure.models.layers_hms import with_probabilities
from kerasseizure.models.seizurenet import SeizureNet, seizurenet_member, seizurenet_with_embeddings
from kerasseizure.models.spectrogram_net import SpectrogramNet
from kerasseizure.models.students import STUDENT_SIZES, student, with_teacher_inputs
from kerasseizure.models.wavenet import WAVENET_BLOCK_PRESETS, WaveNet

__all__ = [
    "CompactSpectrogramNet", "SeizureNet", "SpectroTemporal3D", "SpectrogramNet", "STUDENT_SIZES", "WAVENET_BLOCK_PRESETS",
    "WaveNet", "fused", "seizurenet_member", "seizurenet_with_embeddings", "student",
    "with_probabilities", "with_teacher_inputs",
]
