"""Drawing of 2D and 3D skeletons with matplotlib (Agg backend: works without a screen).

Joint colours follow the metainfo's left/right split: left joints blue, right joints red,
centre joints grey, with a legend. Axes are labelled with their units (normalised screen units
or pixels, one switch: ``units``); the 3D vertical axis shows the data's own y values (y down)
with up drawn up; predictions drawn against a ground truth colour each joint by its error.
The skeleton comes from the metainfo; nothing assumes 17 joints.
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


NORMALISED = 'normalised units'  # pixels / (image width / 2), the model's units
PIXELS = 'pixels'
ERROR_CMAP = 'plasma'


def side_legend(ax, flip_pairs, **kwargs) -> None:
    """A legend naming the colours of the two sides (nothing for a skeleton without pairs)."""
    if not flip_pairs:
        return
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=LEFT, lw=2, label='left'),
               Line2D([], [], color=RIGHT, lw=2, label='right')]
    ax.legend(handles=handles, fontsize=6, frameon=False, handlelength=1.2,
              **{'loc': 'upper right', **kwargs})


def draw_pose_2d(ax, pose: np.ndarray, links, flip_pairs=(), title: str = '',
                 invert_y: bool = True, units: str = NORMALISED, legend: bool = True):
    """pose: (J, >=2) in ``units`` (normalised screen units or pixels, stated on the axes);
    y grows downwards (image), so the axis is inverted and a person stands upright."""
    colours = _side_colours(len(pose), flip_pairs)
    for a, b in links:
        ax.plot(pose[[a, b], 0], pose[[a, b], 1], color=_bone_colour(colours, a, b), lw=2)
    ax.scatter(pose[:, 0], pose[:, 1], c=colours, s=10, zorder=3)
    ax.set_aspect('equal', adjustable='datalim')
    if invert_y:
        ax.invert_yaxis()
    ax.set_xlabel(f'x ({units})', fontsize=6, labelpad=1)
    ax.set_ylabel(f'y, down ({units})', fontsize=6, labelpad=1)
    ax.tick_params(labelsize=5, pad=1)
    if legend:
        side_legend(ax, flip_pairs)
    ax.set_title(title, fontsize=8)


def draw_pose_3d(ax, pose: np.ndarray, links, flip_pairs=(), title: str = '',
                 radius: Optional[float] = None, colour: Optional[str] = None, label=None,
                 units: str = NORMALISED, errors: Optional[np.ndarray] = None,
                 error_max: Optional[float] = None, legend: bool = True):
    """pose: (J, 3) camera coordinates (x right, y down, z away from the camera),
    root-relative, in ``units``.

    The axes show the data's own values: x across, z as depth, and y vertical with its axis
    inverted, so up is drawn up while the tick labels read as in the file (y down). Equal
    scale on the three axes (a cube of half-size ``radius``). With ``errors`` (J,), each joint
    is coloured by its error (colour map ``ERROR_CMAP``, 0 to ``error_max``); returns the
    scatter so a caller can add a colour bar.
    """
    from matplotlib.ticker import MaxNLocator
    colours = _side_colours(len(pose), flip_pairs)
    xs, ys, zs = pose[:, 0], pose[:, 2], pose[:, 1]
    for i, (a, b) in enumerate(links):
        ax.plot(xs[[a, b]], ys[[a, b]], zs[[a, b]], lw=2,
                color=colour or _bone_colour(colours, a, b),
                label=label if i == 0 else None)
    points = None
    if errors is not None:
        errors = np.asarray(errors, dtype=np.float64)
        vmax = float(error_max if error_max is not None else errors.max() or 1.0)
        points = ax.scatter(xs, ys, zs, c=errors, cmap=ERROR_CMAP, vmin=0.0, vmax=vmax, s=18,
                            depthshade=False, edgecolors='k', linewidths=0.3, zorder=4)
    r = radius if radius is not None else float(np.abs(pose).max() or 1.0)
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_zlim(r, -r)  # y grows downwards: inverted, so the head is at the top
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=15, azim=-70)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(3))  # few ticks: they no longer overlap
    ax.tick_params(labelsize=5, pad=0)
    ax.set_xlabel(f'x ({units})', fontsize=6, labelpad=-6)
    ax.set_ylabel(f'z, depth ({units})', fontsize=6, labelpad=-6)
    ax.set_zlabel(f'y, down ({units})', fontsize=6, labelpad=-6)
    if legend and colour is None:
        side_legend(ax, flip_pairs, loc='upper left')
    ax.set_title(title, fontsize=8)
    return points


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
        draw_pose_2d(ax, inputs_2d[t], links, flip_pairs, title=f'2D input, frame {t}',
                     legend=i == 0)
        if target_3d is not None:
            ax3 = fig.add_subplot(rows, len(frames), len(frames) + i + 1, projection='3d')
            draw_pose_3d(ax3, target_3d[t], links, flip_pairs, title=f'3D target, frame {t}',
                         radius=radius, legend=i == 0)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return render_figure(fig)
