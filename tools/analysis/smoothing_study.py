"""What one-euro smoothing does to the lifted 3D: MPJPE, MPJVE and acceleration error, with and
without it, on whole videos of the synthetic test split (the demo model with its trajectory
head; camera-space ground truth and intrinsics from the file).

    .venv/bin/python tools/analysis/smoothing_study.py --every 6 --json smoothing.json

Each video is lifted as the demo lifts a file (``inference_people``, windows of the model,
flip test), with the file's intrinsics; errors per frame in mm against ``joint3d_camera``:
root-relative (``keypoints_3d_mm``) and camera-space, mean over frames of all videos.
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

CONFIG = 'configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py'
CHECKPOINT = 'demo/checkpoints/dualpose-tiny-traj_synthetic-27f.pth'
DATA = 'data/h36m_synthetic/h36m_sh_conf_cam_source_final.pkl'
SETTINGS = ((1.0, 0.5), (0.5, 0.5), (2.0, 1.0))   # (min_cutoff Hz, beta)


def errors(pred, gt):
    """mm: MPJPE, MPJVE, acceleration error (per frame means over joints, then frames)."""
    import torch

    from dualpose.evaluation.functional import accel_error, mpjpe, mpjve
    p, g = torch.from_numpy(pred.astype(np.float64)), torch.from_numpy(gt.astype(np.float64))
    return (mpjpe(p, g).numpy(), mpjve(p, g, dim=0).numpy(), accel_error(p, g, dim=0).numpy())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default=DATA)
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--checkpoint', default=CHECKPOINT)
    parser.add_argument('--every', type=int, default=1, help='every k-th test video (1: all)')
    parser.add_argument('--fps', type=float, default=50.0, help='the data\'s frame rate (50)')
    parser.add_argument('--json', default=None, help='write the table here too')
    args = parser.parse_args(argv)
    import pickle

    from dualpose.apis import OneEuroSmoothing, inference_people, init_model
    from dualpose.datasets.datasets.base import group_videos
    from dualpose.datasets.h36m_cameras import H36M_INTRINSICS
    from dualpose.utils.table import format_table
    with open(args.data, 'rb') as f:
        test = pickle.load(f)['test']
    if 'joint3d_camera' not in test:
        print(f'{args.data} has no joint3d_camera: regenerate it with '
              'tools/dataset_converters/make_synthetic_h36m.py --force', file=sys.stderr)
        return 2
    model = init_model(args.config, args.checkpoint)
    videos = group_videos(test['source'])[::max(args.every, 1)]
    arms = [('off', None)] + [(f'one-euro {c:g} Hz, beta {b:g}', OneEuroSmoothing(c, b))
                              for c, b in SETTINGS]
    sums = {name: [[], [], [], [], [], []] for name, _ in arms}
    raw = None
    for frames in videos:
        kpts = test['joint_2d'][frames][None]
        conf = test['confidence'][frames][None]
        size = tuple(test['camera_size'][frames[0]]) if 'camera_size' in test else \
            H36M_INTRINSICS[str(test['camera_name'][frames[0]])]['size']
        cam = test['camera_intrinsics'][frames[0]]
        gt = test['joint3d_camera'][frames].astype(np.float64)
        raw = inference_people(model, kpts, size, conf, camera=tuple(cam))
        for name, smoothing in arms:
            cam_pose = raw.keypoints_3d_camera[0] if smoothing is None else \
                smoothing(raw.keypoints_3d_camera[0], args.fps)
            rel = cam_pose - cam_pose[:, :1]
            for k, e in enumerate(errors(rel, gt - gt[:, :1]) + errors(cam_pose, gt)):
                sums[name][k].append(e)
    rows = [[name] + [float(np.concatenate(v).mean()) for v in sums[name]] for name, _ in arms]
    header = ['smoothing', 'MPJPE', 'MPJVE', 'accel', 'camera MPJPE', 'camera MPJVE',
              'camera accel']
    frames = sum(len(f) for f in videos)
    print(f'{len(videos)} test videos, {frames} frames, {args.fps:g} fps; mm (MPJVE mm per '
          'frame, accel mm per frame^2); root-relative, then camera space')
    print(format_table(rows, header))
    if args.json:
        from dualpose.utils.fileio import write_text_atomic
        write_text_atomic(args.json, json.dumps(dict(videos=len(videos), frames=frames,
                                                     header=header, rows=rows), indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
