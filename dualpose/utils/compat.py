"""Compatibility fixes for mmengine 0.10.x on torch >= 2.6, kept in one place.

Applied once, at import of :mod:`dualpose` (``apply_compat_fixes`` is idempotent).
"""
import torch
from mmengine.runner import CheckpointLoader

_APPLIED = False


def _load_local_checkpoint(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=False``.

    Why: torch >= 2.6 defaults ``torch.load(weights_only=True)``, but mmengine checkpoints
    pickle ``HistoryBuffer`` objects and numpy arrays in their ``message_hub``, so resume and
    ``load_from`` fail with "Unsupported global". Only load checkpoints you trust.
    """
    import os.path as osp
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        raise IsADirectoryError(f'checkpoint {filename!r} is a directory, not a checkpoint '
                                'file (.pth)')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except Exception as err:  # truncated or corrupted file: say which file
        raise RuntimeError(
            f'could not read checkpoint {filename!r} ({type(err).__name__}: {err}); '
            'the file is probably truncated or not a torch checkpoint') from err


def apply_compat_fixes():
    """Re-register mmengine's local-file checkpoint loader (see ``_load_local_checkpoint``)."""
    global _APPLIED
    if _APPLIED:
        return
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local_checkpoint)
    _APPLIED = True


def slurm_to_torch_env(environ) -> dict:
    """torch.distributed's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)
    from Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODELIST); values already
    set in ``environ`` win. The master is the first host of the node list."""
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS') if k not in environ]
    if missing:
        raise RuntimeError(f'--launcher slurm: {missing} not set; start the job with srun '
                           '(tools/slurm_train.sh)')
    out = dict(RANK=environ['SLURM_PROCID'], WORLD_SIZE=environ['SLURM_NTASKS'],
               LOCAL_RANK=environ.get('SLURM_LOCALID', '0'),
               MASTER_PORT=environ.get('MASTER_PORT', '29500'))
    if 'MASTER_ADDR' in environ:
        out['MASTER_ADDR'] = environ['MASTER_ADDR']
    else:
        import subprocess
        nodes = environ.get('SLURM_NODELIST', '127.0.0.1')
        try:
            hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodes], check=True,
                                   capture_output=True, text=True).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            hosts = [nodes.split(',')[0]]
        out['MASTER_ADDR'] = hosts[0]
    return {k: environ.get(k, v) for k, v in out.items()}


def init_cpu_distributed(launcher: str, backend: str = 'gloo'):
    """Initialise the gloo process group before the Runner when CUDA is absent.

    Why: mmengine calls ``torch.cuda.set_device`` unconditionally in its own initialisation,
    which raises on CPU-only builds. ``pytorch`` (torchrun) and ``slurm`` (srun) launchers are
    handled. Returns True when it initialised the group.
    """
    import os

    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    if launcher == 'slurm':
        os.environ.update(slurm_to_torch_env(os.environ))
    elif launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher}: only pytorch (torchrun) and slurm start '
                         'CPU processes; use one of them, or train on GPUs')
    dist.init_process_group(backend=backend)
    return True


def finish_distributed() -> None:
    """End a multi-process run in order: every rank waits for the others, then destroys its
    process group, before the interpreter exits.

    Why: without it each process tears gloo down in its exit handlers, in no set order, while
    rank 0 hosts the rendezvous store; a rank whose gloo threads still run then can abort after
    its work is done ("terminate called without an active exception", SIGABRT, exit 1 of a run
    whose checkpoints were all saved; seen in 1 of 4 CPU runs, not reproduced in 10 since).
    A no-op outside distributed runs."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    try:
        dist.barrier()
    finally:
        dist.destroy_process_group()


def cpu_model_wrapper_cfg():
    """DDP config for CPU modules. Why: mmengine passes ``device_ids=[0]``, which DDP rejects
    for CPU modules."""
    return dict(type='MMDistributedDataParallel', device_ids=None)
