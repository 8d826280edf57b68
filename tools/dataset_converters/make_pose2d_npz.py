"""Turn the 2D keypoints of a public layout into the 2D-only sequence file that
``Pose2dSequenceDataset`` reads (extra unlabeled data for pre-training).

Output npz: ``keypoints`` (N, J, 2) float32 pixels, ``scores`` (N, J) float32, ``video_id`` (N,)
str (one id per video, frames contiguous and in time order), ``image_size`` (N, 2) float32
(w, h). The joints stay in the source's order: H36M-17 for Human3.6M, the 17-joint MPI test
order for MPI-INF-3DHP; use the matching ``dataset_info`` for the dataset.

Sources::

    # VideoPose3D 2D file (e.g. CPN detections), all subjects or some; scores 1
    .venv/bin/python tools/dataset_converters/make_pose2d_npz.py vp3d \\
        data/h36m_vp3d/data_2d_h36m_cpn_ft_h36m_dbb.npz data/extra/h36m_cpn_2d.npz \\
        --subjects S1 S5 S6 S7 S8
    # MotionBERT pickle: the detections and their confidences of one split
    .venv/bin/python tools/dataset_converters/make_pose2d_npz.py motionbert \\
        data/h36m/h36m_sh_conf_cam_source_final.pkl data/extra/h36m_sh_2d.npz --split train
    # MPI-INF-3DHP npz (P-STMO layout); scores 1
    .venv/bin/python tools/dataset_converters/make_pose2d_npz.py mpi \\
        data/mpi_inf_3dhp/data_train_3dhp.npz data/extra/mpi_2d.npz --split train
"""
import argparse
import os.path as osp
import sys

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


def _dataset_info(name):
    from dualpose.utils.config import read_config
    return dict(read_config(
        osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', f'{name}.py')).dataset_info)


def from_vp3d(path, subjects=None):
    from dualpose.datasets.datasets.h36m_vp3d import load_vp3d_2d, vp3d_views
    from dualpose.datasets.h36m_cameras import H36M_CAMERA_IDS, H36M_INTRINSICS
    data = load_vp3d_2d(path, _dataset_info('h36m')['flip_pairs'])
    subjects = sorted(data) if not subjects else [str(s) for s in subjects]
    parts = dict(keypoints=[], video_id=[], image_size=[])
    for subject in subjects:
        if subject not in data:
            raise KeyError(f'{path!r}: positions_2d has no subject {subject!r} (it has '
                           f'{sorted(data)})')
        for action in sorted(data[subject]):
            for camera_id, kp in zip(H36M_CAMERA_IDS, vp3d_views(path, data, subject, action)):
                parts['keypoints'].append(kp)
                parts['video_id'].append([f'{subject}/{action}/{camera_id}'] * len(kp))
                parts['image_size'].append(
                    np.tile(H36M_INTRINSICS[camera_id]['size'], (len(kp), 1)))
    keypoints = np.concatenate(parts['keypoints'])
    return dict(keypoints=keypoints, scores=np.ones(keypoints.shape[:2]),
                video_id=np.concatenate(parts['video_id']),
                image_size=np.concatenate(parts['image_size']))


def _from_dataset(dataset):
    a = dataset.arrays
    order = np.concatenate(dataset.videos)  # videos contiguous, frames in time order
    sizes = (np.asarray(a['image_size'])[order] if 'image_size' in a else np.array(
        [dataset.metainfo['camera_sizes'][str(c)] for c in a['camera_name'][order]]))
    return dict(keypoints=a['joint_2d'][order], scores=a['confidence'][order],
                video_id=a['source'][order].astype(str), image_size=sizes)


def from_motionbert(path, split):
    from dualpose.datasets import Human36mDataset
    return _from_dataset(Human36mDataset(ann_file=path, split=split, seq_len=1,
                                         metainfo=_dataset_info('h36m')))


def from_mpi(path, split):
    from dualpose.datasets import MpiInf3dhpDataset
    return _from_dataset(MpiInf3dhpDataset(ann_file=path, split=split, seq_len=1,
                                           metainfo=_dataset_info('mpi_inf_3dhp')))


def write(out, arrays):
    from dualpose.utils.fileio import atomic_open
    out = osp.abspath(out)
    with atomic_open(out, 'wb') as f:
        np.savez_compressed(f, keypoints=arrays['keypoints'].astype(np.float32),
                            scores=arrays['scores'].astype(np.float32),
                            video_id=np.asarray(arrays['video_id']).astype(str),
                            image_size=arrays['image_size'].astype(np.float32))
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Write the 2D keypoints of a public layout '
                                     'as a Pose2dSequenceDataset npz.')
    parser.add_argument('source', choices=['vp3d', 'motionbert', 'mpi'],
                        help='layout of INPUT: VideoPose3D 2D npz, MotionBERT pickle, '
                        'MPI-INF-3DHP npz')
    parser.add_argument('input', help='the file to read')
    parser.add_argument('out', help='the npz to write')
    parser.add_argument('--split', choices=['train', 'test'], default='train',
                        help='split of a MotionBERT pickle or MPI-INF-3DHP npz (default train)')
    parser.add_argument('--subjects', nargs='+', help='vp3d: subjects to keep (default all)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.input):
        sys.exit(f'error: input file {args.input!r} does not exist (layouts and where to get '
                 'them: docs/datasets.md)')
    try:
        if args.source == 'vp3d':
            arrays = from_vp3d(args.input, args.subjects)
        elif args.source == 'motionbert':
            arrays = from_motionbert(args.input, args.split)
        else:
            arrays = from_mpi(args.input, args.split)
    except (KeyError, ValueError, TypeError, OSError) as err:  # a file of another layout
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        sys.exit(f'error: {args.input!r} as {args.source!r}: {message}')
    out = write(args.out, arrays)
    videos = len(set(arrays['video_id'].tolist()))
    print(f"wrote {len(arrays['keypoints'])} frames of {videos} videos "
          f"({arrays['keypoints'].shape[1]} joints) to {out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
