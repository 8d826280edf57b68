from . import (backbones, data_preprocessors, estimators, heads, layers,  # noqa: F401
               losses, streams, utils)
