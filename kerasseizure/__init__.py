"""kerasseizure: SeizureNet (TUSZ) and HMS harmful-brain-activity reproductions in Keras 3.

Importing the package is cheap and never imports TensorFlow; import the sub-package you need
(`kerasseizure.io`, `kerasseizure.signal`, `kerasseizure.models`, ...).
"""

__version__ = "0.1.0"
