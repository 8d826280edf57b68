from .compat import apply_compat_fixes
from .setup_env import register_all_modules
from .skeleton import (build_flip_indices, flip_pose, normalized_adjacency,
                       parse_metainfo)

__all__ = ['apply_compat_fixes', 'register_all_modules', 'build_flip_indices', 'flip_pose',
           'normalized_adjacency', 'parse_metainfo']
