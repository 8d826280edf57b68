"""Write the SYNTHETIC Human3.6M-like dataset (MotionBERT pickle layout).

The data are procedurally animated stick figures, NOT Human3.6M; see
``dualpose/datasets/synthetic.py``. An existing file is left as it is unless ``--force``
is given, so scripts can call this repeatedly.

Example::

    python tools/dataset_converters/make_synthetic_h36m.py
    python tools/dataset_converters/make_synthetic_h36m.py --seed 1 --frames-per-video 200 --force
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
        description='Generate the SYNTHETIC Human3.6M-like pickle (MotionBERT layout).')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help=f'output pickle (default: {DEFAULT_OUT})')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--frames-per-video', type=int, default=None,
                        help='shortest video length in frames; videos are up to 1.4x longer '
                             '(default: the generator default)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the output file exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out
    if osp.exists(out) and not args.force:
        print(f'{out} exists; not regenerating (use --force to overwrite)')
        return 0
    if args.frames_per_video is not None and args.frames_per_video < 1:
        print(f'--frames-per-video must be >= 1, got {args.frames_per_video}', file=sys.stderr)
        return 2
    synthetic = _load_synthetic()
    kwargs = dict(seed=args.seed)
    if args.frames_per_video is not None:
        kwargs['frames_per_video'] = args.frames_per_video
    summary = synthetic.write_synthetic_h36m(out, **kwargs)
    print(f"wrote SYNTHETIC Human3.6M-like data to {summary['out_file']}")
    for split in ('train', 'test'):
        print(f"  {split:5s}: {summary['frames'][split]:7d} frames, "
              f"{summary['videos'][split]:4d} videos")
    print(f"  size : {summary['size_mb']:.1f} MB, generated in {summary['seconds']:.1f} s "
          f'(seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
