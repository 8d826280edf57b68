"""Draw samples of the SYNTHETIC generator v2: stick figures of each movement family, several
frames of one recording per row, seen from the side in world space (floor drawn).

    .venv/bin/python tools/misc/plot_synthetic_samples.py --out docs/resources/synthetic_v2_samples.png
"""
import argparse
import os.path as osp
import sys

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_KINDS = ('locomotion/walk', 'locomotion/run', 'posture', 'posture/kneel_one',
                 'upper_body/throw', 'upper_body/punch', 'kick/front', 'jump/tuck',
                 'floor/crawl', 'floor/getup', 'floor/cartwheel', 'floor/flip')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='work_dirs/synthetic_v2_samples.png',
                        help='output PNG (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--kinds', nargs='+', default=list(DEFAULT_KINDS),
                        help='family/kind per row; a bare family draws its kind and may move '
                             'on to other families (default: %(default)s)')
    parser.add_argument('--frames', type=int, default=6, help='frames per row (default: 6)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from dualpose.datasets.synthetic import FAMILY_NAMES, LINKS, draw_body, generate_motion
    from dualpose.utils.fileio import write_atomic

    rows = [tuple(spec.split('/')) + (None,) if '/' not in spec else tuple(spec.split('/'))
            for spec in args.kinds]
    rows = [(r[0], r[1]) for r in rows]
    bad = [f for f, _ in rows if f not in FAMILY_NAMES]
    if bad:
        print(f'unknown families {bad}; valid: {list(FAMILY_NAMES)}', file=sys.stderr)
        return 2
    fig, axes = plt.subplots(len(rows), 1, figsize=(2.0 * args.frames, 1.9 * len(rows)),
                             dpi=70, squeeze=False)
    left = {4, 5, 6, 11, 12, 13}
    for row, (ax, (fam, kind)) in enumerate(zip(axes[:, 0], rows)):
        rng = np.random.default_rng([args.seed, row, 301])
        body = draw_body(rng)
        motion = generate_motion(rng, fam, 250, body, kind=kind,
                                 transition_prob=0.5 if kind is None else 0.0)
        joints = motion['joints']
        frames = np.linspace(0, len(joints) - 1, args.frames).astype(int)
        for i, f in enumerate(frames):
            pose = joints[f] - np.array([joints[f, 0, 0], joints[f, 0, 1], 0.0])
            # seen from the body's right side: x along its facing direction
            side = (pose[4] - pose[1] + pose[11] - pose[14])[:2]
            side = side / max(np.linalg.norm(side), 1e-6)
            x = pose[:, 0] * -side[1] + pose[:, 1] * side[0] + i * 2200.0
            z = pose[:, 2]
            for a, b in LINKS:
                ax.plot(x[[a, b]], z[[a, b]], lw=2,
                        color='#1f77b4' if b in left else ('#555555' if b in (7, 8, 9, 10)
                                                           else '#d62728'))
            ax.text(i * 2200.0, -250, f'{f / 50:.1f} s', ha='center', fontsize=7)
        ax.axhline(0, color='#999999', lw=1)
        ax.set_xlim(-1200, 2200 * (args.frames - 1) + 1200)
        ax.set_ylim(-400, 2100)
        ax.set_aspect('equal')
        ax.axis('off')
        ax.set_title(f"{fam}: {' -> '.join(motion['labels'])}  (height "
                     f"{body['height'] / 1000:.2f} m)", fontsize=8, loc='left')
    fig.suptitle('SYNTHETIC generator v2 samples (world space, seen from the right, floor at 0)',
                 fontsize=9)
    fig.tight_layout()
    write_atomic(args.out, lambda path: fig.savefig(path, format='png'))
    plt.close(fig)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
