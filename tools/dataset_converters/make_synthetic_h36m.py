"""Write the SYNTHETIC Human3.6M-layout dataset (MotionBERT pickle) of generator v2.

The data are procedurally animated bodies, NOT Human3.6M; see ``dualpose/datasets/synthetic/``.
An existing file is left as it is unless ``--force`` is given, so scripts can call this
repeatedly. A failed generation leaves no partial file.

Examples::

    .venv/bin/python tools/dataset_converters/make_synthetic_h36m.py
    # leave-one-family-out: train without 'floor', test on it
    .venv/bin/python tools/dataset_converters/make_synthetic_h36m.py --out data/lofo/floor.pkl \\
        --families locomotion posture upper_body kick jump --test-families floor
    # test split filmed by random cameras never used in training
    .venv/bin/python tools/dataset_converters/make_synthetic_h36m.py --out data/unseen.pkl --test-cameras random
    # generator v1 (seven scripted actions; kept for one release)
    .venv/bin/python tools/dataset_converters/make_synthetic_h36m.py --generator v1 --out data/v1.pkl
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_OUT = 'data/h36m_synthetic/h36m_sh_conf_cam_source_final.pkl'


def _load_synthetic():
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    import dualpose.datasets.synthetic as synthetic
    return synthetic


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the SYNTHETIC Human3.6M-layout pickle (MotionBERT layout).')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help=f'output pickle (default: {DEFAULT_OUT})')
    parser.add_argument('--generator', choices=('v2', 'v1'), default='v2',
                        help='v2 (default): bodies, motion prior, real H36M cameras; v1: the '
                             'seven scripted actions, kept for one release')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--frames-per-video', type=int, default=None,
                        help='shortest recording in frames (v2: up to 1.6x longer; default: '
                             'the generator default)')
    parser.add_argument('--families', nargs='+', default=None,
                        help='v2: families of the training recordings (default: all six)')
    parser.add_argument('--test-families', nargs='+', default=None,
                        help='v2: families of the test recordings (default: --families)')
    parser.add_argument('--recordings', type=int, default=None,
                        help='v2: training recordings per subject and family (default 5)')
    parser.add_argument('--test-recordings', type=int, default=None,
                        help='v2: test recordings per subject and family (default 3)')
    parser.add_argument('--test-cameras', choices=('h36m', 'random'), default=None,
                        help="v2: 'random' films the test split with random cameras never "
                             'used in training (default: the subjects\' real cameras)')
    parser.add_argument('--camera-aug-views', type=int, default=None,
                        help='v2: extra random cameras per training recording (default 0)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the output file exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out
    if osp.exists(out) and not args.force:
        print(f'{out} exists; not regenerating (use --force to overwrite)')
        return 0
    kwargs = dict(seed=args.seed)
    if args.frames_per_video is not None:
        kwargs['frames_per_video'] = args.frames_per_video
    v2_only = dict(families=args.families, test_families=args.test_families,
                   recordings=args.recordings, test_recordings=args.test_recordings,
                   test_cameras=args.test_cameras)
    if args.camera_aug_views is not None:
        v2_only['camera_augmentation'] = dict(views=args.camera_aug_views)
    given = {k: v for k, v in v2_only.items() if v is not None}
    if args.generator == 'v1' and given:
        print(f'--generator v1 does not take {sorted(given)}', file=sys.stderr)
        return 2
    kwargs.update(given)
    if args.generator == 'v2':
        kwargs['progress'] = True  # a bar with an ETA on a terminal
    synthetic = _load_synthetic()
    try:
        summary = synthetic.write_synthetic_h36m(out, generator=args.generator, **kwargs)
    except ValueError as err:
        print(f'make_synthetic_h36m: {err}', file=sys.stderr)
        return 2
    print(f"wrote SYNTHETIC Human3.6M-layout data (generator {args.generator}) to "
          f"{summary['out_file']}")
    for split in ('train', 'test'):
        print(f"  {split:5s}: {summary['frames'][split]:7d} frames, "
              f"{summary['videos'][split]:4d} videos")
    print(f"  size : {summary['size_mb']:.1f} MB, generated in {summary['seconds']:.1f} s "
          f'(seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
