"""Components that plug into the mmengine training loop (optim wrappers live in utils.compat)."""
import dualpose.utils.compat  # noqa: F401  (registers AutocastOptimWrapper)
