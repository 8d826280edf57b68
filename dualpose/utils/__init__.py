"""Bottom-layer helpers only: dependency fixes (compat), atomic file writes (fileio), the
config loader (config), the CPU allocator set-up (cpu_malloc). Nothing here imports another
dualpose folder except the registry."""
from .compat import apply_compat_fixes
from .config import read_config
from .table import format_table
from .fileio import (StagedFiles, atomic_open, atomic_path, replace_atomic, write_atomic,
                     write_text_atomic)

__all__ = ['apply_compat_fixes', 'read_config', 'write_atomic', 'write_text_atomic',
           'atomic_open', 'atomic_path', 'replace_atomic', 'StagedFiles', 'format_table']
