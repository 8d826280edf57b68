"""Registries of dualpose: children of mmengine's root registries.

Each registry names the package locations that hold its members, so a config's
``type='X'`` is found without the user importing anything (``default_scope='dualpose'``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry as _MMRegistry


class Registry(_MMRegistry):
    """mmengine's ``Registry`` whose failed lookup names the registry, the missing name and
    the closest registered names (dualpose's and mmengine's), and says how to import a user's
    own module. Membership tests (``name in REGISTRY``) still answer False quietly."""

    def get(self, key: str):
        obj = super().get(key)
        if obj is None:
            raise KeyError(self.missing_message(key))
        return obj

    def __contains__(self, key: str) -> bool:
        return super().get(key) is not None

    def known_names(self):
        names, node = set(), self
        while node is not None:
            names.update(node.module_dict)
            node = node.parent
        return sorted(names)

    def missing_message(self, key: str) -> str:
        import difflib
        _, real_key = self.split_scope_key(key)
        names = self.known_names()
        close = difflib.get_close_matches(real_key, names, n=5, cutoff=0.5)
        lowered = [n for n in names if n.lower() == str(real_key).lower() and n not in close]
        close = lowered + close
        hint = f' Did you mean: {", ".join(close)}?' if close else ''
        var = next((k for k, v in globals().items() if v is self), 'MODELS')
        parent = f" (nor in its parent '{self.parent.scope}')" if self.parent else ''
        return (f"'{key}' is not registered in the '{self.name}' registry of scope "
                f"'{self.scope}'{parent}.{hint} If it is "
                f'your own class, decorate it with @{var}.register_module() from '
                'dualpose.registry and import its module from the config: custom_imports = '
                "dict(imports=['my_package.my_module'], allow_failed_imports=False).")

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['dualpose.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS, locations=['dualpose.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['dualpose.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS,
                 locations=['dualpose.engine', 'dualpose.visualization'])

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['dualpose.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['dualpose.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['dualpose.datasets.transforms'])

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['dualpose.models'])
MODEL_WRAPPERS = Registry(
    'model wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['dualpose.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, locations=['dualpose.models'])

OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['dualpose.engine'])
OPTIM_WRAPPERS = Registry(
    'optim wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['dualpose.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['dualpose.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['dualpose.engine'])

METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['dualpose.evaluation'])
EVALUATORS = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['dualpose.evaluation'])

TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['dualpose.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['dualpose.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=['dualpose.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMENGINE_LOG_PROCESSORS, locations=['dualpose.engine'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS, locations=['dualpose.apis'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['dualpose.utils'])
# joint-set converters of 2D keypoint files (e.g. COCO-17 -> H36M-17); mmengine has no root
# registry of this kind, so this one has no parent
KEYPOINT_CONVERTERS = Registry('keypoint converter', locations=['dualpose.keypoints'])
# readers of 2D keypoint files, one per format (COCO, MMPose, AlphaPose, numpy); no parent
KEYPOINT_READERS = Registry('keypoint reader', locations=['dualpose.keypoints'])
# coordinate codecs (screen normalisation, root-relative, 2.5D factor <-> mm, flip); no parent
KEYPOINT_CODECS = Registry('keypoint codec', locations=['dualpose.codecs'])
