"""Save pictures of a few samples exactly as a config's pipeline delivers them: the 2D input
(normalised screen units) and the 3D target (root-relative, normalised units).

    .venv/bin/python tools/misc/browse_dataset.py CONFIG [--split train|test] [--num 4] [--frames 0 13 26]
                                        [--out-dir work_dirs/browse] [--cfg-options ...]
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.apis import register_all_modules  # noqa: E402
from dualpose.apis.setup_env import check_data_or_exit  # noqa: E402
from dualpose.registry import DATASETS  # noqa: E402
from dualpose.utils.config import read_config  # noqa: E402
from dualpose.visualization import render_clip  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description='Save pictures of pipeline samples')
    parser.add_argument('config')
    parser.add_argument('--split', choices=['train', 'test'], default='train',
                        help='which dataloader of the config to browse')
    parser.add_argument('--num', type=int, default=4, help='number of samples')
    parser.add_argument('--frames', type=int, nargs='+', default=None,
                        help='frames of each clip to draw (default: first, middle, last)')
    parser.add_argument('--out-dir', default=None,
                        help='default: work_dirs/browse_<config name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)

    register_all_modules()
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    key = f'{args.split}_dataloader'
    if not cfg.get(key):
        sys.exit(f'error: {args.config} has no {key}')
    check_data_or_exit(cfg, (key, ), args.config)
    dataset = DATASETS.build(cfg[key].dataset)
    info = dataset.metainfo
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'browse_' + osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    import cv2
    rng = np.random.default_rng(0)
    indices = rng.choice(len(dataset), size=min(args.num, len(dataset)), replace=False)
    for i in indices:
        sample = dataset[int(i)]
        inputs = sample['inputs'].numpy()
        ds = sample['data_samples']
        target = ds.gt_target.numpy() if 'gt_target' in ds else None
        t = inputs.shape[0]
        frames = args.frames or sorted({0, t // 2, t - 1})
        img = render_clip(inputs, target, info['skeleton_links'], info['flip_pairs'],
                          frames=frames,
                          title=f"{ds.metainfo.get('video_id', '')} clip {int(i)}"
                          + (' (flipped)' if ds.metainfo.get('flipped') else ''))
        path = osp.join(out_dir, f'sample_{int(i):06d}.png')
        cv2.imwrite(path, img[..., ::-1])
        print(f'saved {path}')


if __name__ == '__main__':
    main()
