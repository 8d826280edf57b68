"""dualpose: lifting 2D human pose sequences to 3D with a dual-stream Transformer-GCN model."""
from .utils.compat import apply_compat_fixes
from .version import __version__

apply_compat_fixes()

__all__ = ['__version__']
