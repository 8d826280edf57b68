"""Drawing of 2D and 3D skeletons with matplotlib (Agg backend: works without a screen).

Joint colours follow the metainfo's left/right split: left joints blue, right joints red,
centre joints grey. The skeleton comes from the metainfo; nothing assumes 17 joints.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

LEFT, RIGHT, CENTRE = '#1f77b4', '#d62728', '#555555'


def _side_colours(num_joints: int, flip_pairs: Sequence[Tuple[int, int]]):
    """Colour per joint: the first joint of each flip pair is drawn in one colour, its mirror
    in the other, so a left-right swap is visible at a glance."""
    colours = [CENTRE] * num_joints
    for a, b in flip_pairs:
        colours[a], colours[b] = RIGHT, LEFT
    return colours


def _bone_colour(colours, a, b):
    return colours[b] if colours[b] != CENTRE else colours[a]


def draw_pose_2d(ax, pose: np.ndarray, links, flip_pairs=(), title: str = '',
                 invert_y: bool = True):
    """pose: (J, >=2) in any 2D units (pixels or normalised); y grows downwards (image)."""
    colours = _side_colours(len(pose), flip_pairs)
    for a, b in links:
        ax.plot(pose[[a, b], 0], pose[[a, b], 1], color=_bone_colour(colours, a, b), lw=2)
    ax.scatter(pose[:, 0], pose[:, 1], c=colours, s=10, zorder=3)
    ax.set_aspect('equal')
    if invert_y:
        ax.invert_yaxis()
    ax.set_title(title, fontsize=9)


def draw_pose_3d(ax, pose: np.ndarray, links, flip_pairs=(), title: str = '',
                 radius: Optional[float] = None, colour: Optional[str] = None, label=None):
    """pose: (J, 3) camera-style coordinates (x right, y down, z forward), root-relative.

    Drawn with y up and z as depth so that the person stands upright."""
    colours = _side_colours(len(pose), flip_pairs)
    xs, ys, zs = pose[:, 0], pose[:, 2], -pose[:, 1]
    for i, (a, b) in enumerate(links):
        ax.plot(xs[[a, b]], ys[[a, b]], zs[[a, b]], lw=2,
                color=colour or _bone_colour(colours, a, b),
                label=label if i == 0 else None)
    r = radius if radius is not None else float(np.abs(pose).max() or 1.0)
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_zlim(-r, r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=15, azim=-70)
    ax.set_title(title, fontsize=9)


def figure_to_array(fig) -> np.ndarray:
    """Rasterise a matplotlib figure (Agg canvas) to an (H, W, 3) uint8 RGB array, the one
    figure-to-array of the package (mmengine's ``img_from_canvas``); the figure stays open."""
    from mmengine.visualization.utils import img_from_canvas
    return np.ascontiguousarray(img_from_canvas(fig.canvas))


def render_figure(fig) -> np.ndarray:
    """:func:`figure_to_array`, then close the figure."""
    import matplotlib.pyplot as plt
    img = figure_to_array(fig)
    plt.close(fig)
    return img


def render_clip(inputs_2d: np.ndarray, target_3d: Optional[np.ndarray], links, flip_pairs=(),
                frames: Sequence[int] = (0, ), title: str = '') -> np.ndarray:
    """A picture of chosen frames of a clip: the 2D input above, the 3D target below.

    Args:
        inputs_2d: (T, J, >=2) normalised screen units (confidence channel ignored).
        target_3d: (T, J, 3) root-relative 3D, or None (2D-only data).
    Returns:
        (H, W, 3) uint8 image.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    rows = 2 if target_3d is not None else 1
    fig = plt.figure(figsize=(2.6 * len(frames), 2.6 * rows), dpi=80)
    radius = float(np.abs(target_3d).max()) if target_3d is not None else None
    for i, t in enumerate(frames):
        ax = fig.add_subplot(rows, len(frames), i + 1)
        draw_pose_2d(ax, inputs_2d[t], links, flip_pairs, title=f'2D input, frame {t}')
        if target_3d is not None:
            ax3 = fig.add_subplot(rows, len(frames), len(frames) + i + 1, projection='3d')
            draw_pose_3d(ax3, target_3d[t], links, flip_pairs, title=f'3D target, frame {t}',
                         radius=radius)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return render_figure(fig)
