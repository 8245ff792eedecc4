import keras
import pytest


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


# Expensive models built once per session and shared by the tests that only READ them (no
# training, no weight changes): building them is most of those tests' cost on a CPU.


@pytest.fixture(scope="session")
def default_seizurenet():
    """`SeizureNet()` with its defaults (1.46 M parameters): contract, models table, student sizes."""
    from kerasseizure.models.seizurenet import SeizureNet

    return SeizureNet()


@pytest.fixture(scope="session")
def default_seizurenet_member():
    """`seizurenet_member()` with its defaults (the 24-bin member of the default SeizureNet)."""
    from kerasseizure.models.seizurenet import seizurenet_member

    return seizurenet_member()


@pytest.fixture(scope="session")
def small_v2b0():
    """A SpectrogramNet with an EfficientNetV2B0 backbone on 32 x 32 images (dropout 0.2).

    Shared by test_spectrogram_net.py and test_fusion.py (whose fused model copies its trunk and
    checks that the given model is left untouched): EfficientNet builds are the slow part there.
    """
    from kerasseizure.models.spectrogram_net import SpectrogramNet

    keras.utils.set_random_seed(0)
    return SpectrogramNet(input_shape=(32, 32, 3), backbone="EfficientNetV2B0", dropout=0.2)
