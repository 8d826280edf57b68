"""Strip a training checkpoint to what inference needs: the model weights and a small meta.

    .venv/bin/python tools/misc/publish_model.py work_dirs/X/epoch_8.pth demo/checkpoints/X.pth \
        [--note "how it was trained"]

Drops the optimiser state, the message hub and the RNG states (a third to a half of a training
checkpoint); keeps ``state_dict`` and ``meta`` (epoch, iteration, the dataset's metainfo, the
config name, the source file, the note). Written atomically. The result loads with
``dualpose.apis.init_model`` and as ``load_from`` in a config; it cannot resume training.
"""
import argparse
import hashlib
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

KEEP_META = ('epoch', 'iter', 'dataset_meta', 'cfg_name', 'experiment_name', 'seed', 'model_cfg')


def publish(src: str, dst: str, note: str = '') -> dict:
    from dualpose.utils.compat import _load_local_checkpoint
    from dualpose.utils.fileio import atomic_path
    ckpt = _load_local_checkpoint(src, map_location='cpu')
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise ValueError(f'{src!r} is not a training checkpoint (no "state_dict")')
    meta = {k: v for k, v in (ckpt.get('meta') or {}).items() if k in KEEP_META}
    meta.update(source=osp.basename(src), note=note)
    state = {k: v.detach().cpu().clone() for k, v in ckpt['state_dict'].items()}
    with atomic_path(dst) as tmp:
        torch.save(dict(state_dict=state, meta=meta), tmp)
    with open(dst, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return dict(path=dst, bytes=osp.getsize(dst), sha256=sha, meta=meta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Keep only the weights of a checkpoint')
    parser.add_argument('src', help='training checkpoint (.pth)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--note', default='', help='how the checkpoint was made')
    args = parser.parse_args(argv)
    try:
        info = publish(args.src, args.dst, args.note)
    except (OSError, RuntimeError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f"wrote {info['path']} ({info['bytes'] / 2 ** 20:.2f} MiB, sha256 "
          f"{info['sha256'][:16]}...)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
