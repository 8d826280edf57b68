"""Pictures of lifting results: the registered visualiser (predicted and ground-truth 3D side by
side) and a fast per-frame renderer for animations (GIF, MP4).

All drawing is matplotlib on the Agg canvas (no screen needed), through the helpers of
:mod:`dualpose.visualization.skeleton_plot`.
"""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.visualization import Visualizer

from dualpose.registry import VISUALIZERS
from dualpose.utils.fileio import StagedFiles, atomic_path
from .skeleton_plot import NORMALISED, draw_pose_2d, draw_pose_3d, figure_to_array

__all__ = ['PoseLiftingVisualizer', 'draw_lifting', 'SkeletonAnimator', 'write_image',
           'AnimationWriter', 'default_frames']


def _figure(width_in: float, height_in: float, dpi: int):
    """A matplotlib Figure on its own Agg canvas (no pyplot state, nothing to close)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _as_numpy(value) -> Optional[np.ndarray]:
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def default_frames(num_frames: int, count: int = 3) -> list:
    """``count`` frames spread over a clip: first, ..., last."""
    count = max(1, min(count, num_frames))
    return sorted({int(round(v)) for v in np.linspace(0, num_frames - 1, count)})


def draw_lifting(links, flip_pairs=(), pred=None, gt=None, inputs_2d=None,
                 frames: Optional[Sequence[int]] = None, title: str = '',
                 panel_inches: float = 2.6, dpi: int = 80,
                 frames_as_columns: bool = False, units: str = NORMALISED) -> np.ndarray:
    """One row per chosen frame: [2D input] [predicted 3D] [ground-truth 3D] (with
    ``frames_as_columns``, one column per frame and a row per kind of panel).

    Args:
        links / flip_pairs: the skeleton (metainfo ``skeleton_links`` / ``flip_pairs``).
        pred, gt: (T, J, 3) root-relative 3D (any units; both drawn at one scale), or None.
        inputs_2d: (T, J, >=2) 2D input (normalised screen units or pixels), or None.
        frames: frame indices; default first, middle and last.
        units: the units of all three arrays, written on every axis (``'normalised units'``,
            the model's, or ``'pixels'``): one switch, so 2D and 3D are never mixed.
    With both ``pred`` and ``gt``, each predicted joint is coloured by its distance to the
    ground truth (one colour scale over the picture, with a colour bar) and the panel's title
    gives the frame's mean error.
    Returns:
        (H, W, 3) uint8 RGB image.
    """
    pred, gt, inputs_2d = _as_numpy(pred), _as_numpy(gt), _as_numpy(inputs_2d)
    present = [a for a in (inputs_2d, pred, gt) if a is not None]
    if not present:
        raise ValueError('draw_lifting needs at least one of pred, gt, inputs_2d')
    num_frames = len(present[0])
    for a in present:
        if len(a) != num_frames:
            raise ValueError(f'pred, gt and inputs_2d must have the same number of frames, got '
                             f'{[len(x) for x in present]}')
    frames = list(frames) if frames is not None else default_frames(num_frames)
    bad = [t for t in frames if not 0 <= t < num_frames]
    if bad:
        raise ValueError(f'frames {bad} are out of range for a clip of {num_frames} frames')
    poses_3d = [a for a in (pred, gt) if a is not None]
    radius = max(float(np.abs(a[frames]).max()) for a in poses_3d) if poses_3d else None
    radius = radius or 1.0
    errors = (np.linalg.norm(pred - gt, axis=-1) if pred is not None and gt is not None
              else None)
    error_max = float(errors[frames].max()) or 1.0 if errors is not None else None
    columns = [('2D input', inputs_2d, False), ('prediction', pred, True),
               ('ground truth', gt, True)]
    columns = [c for c in columns if c[1] is not None]
    grid = (len(columns), len(frames)) if frames_as_columns else (len(frames), len(columns))
    fig = _figure(panel_inches * grid[1], panel_inches * grid[0], dpi)
    for i, t in enumerate(frames):
        for k, (name, data, is_3d) in enumerate(columns):
            index = (k * len(frames) + i if frames_as_columns else i * len(columns) + k) + 1
            first = i == 0
            if is_3d:
                ax = fig.add_subplot(*grid, index, projection='3d')
                joint_errors = errors[t] if errors is not None and name == 'prediction' \
                    else None
                label = f'{name}, frame {t}'
                if joint_errors is not None:
                    label += f'\nmean joint error {joint_errors.mean():.3g}'
                points = draw_pose_3d(ax, data[t], links, flip_pairs, title=label,
                                      radius=radius, units=units, errors=joint_errors,
                                      error_max=error_max, legend=first)
                if points is not None:
                    bar = fig.colorbar(points, ax=ax, shrink=0.5, pad=0.16, fraction=0.035)
                    bar.set_label(f'joint error ({units})', fontsize=6)
                    bar.ax.tick_params(labelsize=5)
            else:
                ax = fig.add_subplot(*grid, index)
                draw_pose_2d(ax, data[t], links, flip_pairs, title=f'{name}, frame {t}',
                             units=units, legend=first)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return figure_to_array(fig)


@VISUALIZERS.register_module()
class PoseLiftingVisualizer(Visualizer):
    """mmengine ``Visualizer`` for 2D-to-3D lifting: draws a clip's 2D input, predicted 3D and
    ground-truth 3D skeletons side by side for a few frames, and sends the picture to the vis
    backends (``LocalVisBackend`` files, ``TensorboardVisBackend``, ...) or to a file.

    The skeleton comes from ``dataset_meta`` (``skeleton_links``, ``flip_pairs``), which the
    mmengine loops set from the dataset; set it yourself when using the visualiser alone.

    Args:
        name: instance name (mmengine visualisers are named singletons).
        vis_backends: backend configs, e.g. ``[dict(type='TensorboardVisBackend')]``.
        save_dir: where backends write.
        num_frames: how many frames of a clip to draw by default.
        panel_inches / dpi: size of each panel.
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Sequence[Dict]] = None,
                 save_dir: Optional[str] = None, dataset_meta: Optional[Dict] = None,
                 num_frames: int = 3, panel_inches: float = 2.6, dpi: int = 80, **kwargs):
        super().__init__(name=name, image=image, vis_backends=vis_backends,
                         save_dir=save_dir, **kwargs)
        self.dataset_meta = dataset_meta
        self.num_frames = num_frames
        self.panel_inches = panel_inches
        self.dpi = dpi

    def _skeleton(self):
        meta = self.dataset_meta
        if not meta or 'skeleton_links' not in meta:
            raise ValueError(f'{type(self).__name__} needs dataset_meta with "skeleton_links" '
                             '(and "flip_pairs") to draw; set visualizer.dataset_meta')
        return meta['skeleton_links'], meta.get('flip_pairs', ())

    def draw_lifting(self, pred=None, gt=None, inputs_2d=None, frames=None,
                     title: str = '') -> np.ndarray:
        """Draw and keep as the current image; returns it (H, W, 3) uint8 RGB."""
        links, flip_pairs = self._skeleton()
        if frames is None:
            length = len(next(a for a in (pred, gt, inputs_2d) if a is not None))
            frames = default_frames(length, self.num_frames)
        img = draw_lifting(links, flip_pairs, pred, gt, inputs_2d, frames, title,
                           self.panel_inches, self.dpi)
        self.set_image(img)
        return img

    def add_datasample(self, name: str, data_sample, inputs_2d=None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, step: int = 0,
                       frames: Optional[Sequence[int]] = None) -> np.ndarray:
        """Draw a ``PoseDataSample`` (``pred`` and/or ``gt_target``, (T, J, 3)) with its 2D
        input ((T, J, >=2), e.g. the model's input clip).

        Without ``out_file`` the picture goes to the vis backends under ``name`` at ``step``;
        with it, it is written there (PNG, atomically) instead.
        """
        pred = data_sample.get('pred') if draw_pred else None
        gt = data_sample.get('gt_target') if draw_gt else None
        if pred is None and gt is None and inputs_2d is None:
            raise ValueError(f'data sample {name!r} has neither "pred" nor "gt_target" to draw')
        meta = getattr(data_sample, 'metainfo', {}) or {}
        title = str(meta.get('video_id', name))
        if 'frame_indices' in meta and len(meta['frame_indices']):
            title += f' (frames from {int(np.asarray(meta["frame_indices"])[0])})'
        img = self.draw_lifting(pred, gt, inputs_2d, frames, title)
        if show:
            self.show(img, win_name=name, wait_time=wait_time)
        if out_file is not None:
            write_image(out_file, img)
        else:
            self.add_image(name, img, step)
        return img


class SkeletonAnimator:
    """Render frame after frame of a lifted sequence quickly: one figure ([2D input] [3D]),
    whose lines are moved for each frame instead of being redrawn from scratch.

    Args:
        keypoints_2d: (T, J, 2) 2D input (y down), in ``units``.
        keypoints_3d: (T, J, 3) root-relative 3D, in ``units``.
        units: written on the axes: ``'pixels'`` (the demo's default) or
            ``'normalised units'``.
        links / flip_pairs: the skeleton.
        undetected: (T, J) bool, joints drawn hollow (filled in, not detected).
    """

    def __init__(self, keypoints_2d, keypoints_3d, links, flip_pairs=(), undetected=None,
                 title: str = '', panel_inches: float = 3.2, dpi: int = 80,
                 units: str = 'pixels'):
        self.kp2d = np.asarray(keypoints_2d, dtype=np.float32)
        self.kp3d = np.asarray(keypoints_3d, dtype=np.float32)
        if len(self.kp2d) != len(self.kp3d):
            raise ValueError(f'{len(self.kp2d)} 2D frames but {len(self.kp3d)} 3D frames')
        self.links = [tuple(link) for link in links]
        self.undetected = (np.zeros(self.kp2d.shape[:2], bool) if undetected is None
                           else np.asarray(undetected, bool))
        self.title = title
        fig = _figure(2 * panel_inches, panel_inches + 0.3, dpi)
        ax2 = fig.add_subplot(1, 2, 1)
        ax3 = fig.add_subplot(1, 2, 2, projection='3d')
        draw_pose_2d(ax2, self.kp2d[0], self.links, flip_pairs, title='2D input', units=units)
        radius = float(np.abs(self.kp3d).max()) or 1.0
        draw_pose_3d(ax3, self.kp3d[0], self.links, flip_pairs, title='3D (root-relative)',
                     radius=radius, units=units)
        # fixed 2D view over the whole sequence (image coordinates, y down)
        lo, hi = self.kp2d.reshape(-1, 2).min(0), self.kp2d.reshape(-1, 2).max(0)
        pad = 0.05 * float((hi - lo).max() or 1.0)
        ax2.set_xlim(lo[0] - pad, hi[0] + pad)
        ax2.set_ylim(hi[1] + pad, lo[1] - pad)
        # no tick labels: text is most of the drawing time of a frame (2.4x faster without)
        ax2.set_xticks([])
        ax2.set_yticks([])
        ax3.set_xticklabels([])
        ax3.set_yticklabels([])
        ax3.set_zticklabels([])
        self.lines_2d = ax2.lines[:len(self.links)]
        self.points_2d = ax2.collections[0]
        self.face_colours = np.array(self.points_2d.get_facecolors())
        self.lines_3d = ax3.lines[:len(self.links)]
        self.caption = fig.suptitle('', fontsize=9)
        fig.tight_layout()
        self.fig = fig

    def __len__(self) -> int:
        return len(self.kp3d)

    def render(self, t: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB picture of frame t."""
        p2, p3 = self.kp2d[t], self.kp3d[t]
        for line, (a, b) in zip(self.lines_2d, self.links):
            line.set_data(p2[[a, b], 0], p2[[a, b], 1])
        self.points_2d.set_offsets(p2)
        colours = self.face_colours.copy()
        if len(colours) == len(p2):
            colours[self.undetected[t], 3] = 0.0
            self.points_2d.set_facecolors(colours)
        xs, ys, zs = p3[:, 0], p3[:, 2], p3[:, 1]  # the axes of draw_pose_3d (y inverted)
        for line, (a, b) in zip(self.lines_3d, self.links):
            line.set_data_3d(xs[[a, b]], ys[[a, b]], zs[[a, b]])
        self.caption.set_text(f'{self.title}  frame {t}' if self.title else f'frame {t}')
        return figure_to_array(self.fig)


# ------------------------------------------------------------------------------- writers
def write_image(path: str, img: np.ndarray) -> str:
    """Write an RGB uint8 image (PNG/JPEG by extension) atomically."""
    import cv2
    ext = osp.splitext(path)[1] or '.png'
    with atomic_path(path, suffix=ext) as tmp:
        if not cv2.imwrite(tmp, np.ascontiguousarray(img[..., ::-1])):
            raise OSError(f'could not write image {path!r}')
    return path


class AnimationWriter:
    """Collect rendered frames into a GIF and, when OpenCV has an MP4 writer, an MP4, both
    written under temporary names; ``commit()`` moves them into place, ``abort()`` removes them.

    Args:
        gif_path / mp4_path: final paths (None to skip that format).
        fps: frames per second of the animation.
        files (StagedFiles, optional): stage the files in this set (committed by its owner
            together with its other files) instead of one of the writer's own.
    """

    def __init__(self, gif_path: Optional[str] = None, mp4_path: Optional[str] = None,
                 fps: float = 25.0, files: Optional[StagedFiles] = None):
        self.fps = float(fps)
        self.gif_path, self.mp4_path = gif_path, mp4_path
        # ``files``: a caller's StagedFiles, to commit the animation with its other outputs
        self._files = files if files is not None else StagedFiles()
        self.gif_tmp = self._files.path(gif_path, '.gif') if gif_path else None
        self.mp4_tmp = self._files.path(mp4_path, '.mp4') if mp4_path else None
        self._gif_frames = []
        self._mp4 = None
        self.mp4_available = mp4_path is not None
        self.written = {}

    def add(self, frame: np.ndarray) -> None:
        from PIL import Image
        if self.gif_tmp:
            self._gif_frames.append(
                Image.fromarray(frame).quantize(colors=64, method=Image.Quantize.MEDIANCUT))
        if self.mp4_tmp and self.mp4_available:
            import cv2
            if self._mp4 is None:
                h, w = frame.shape[:2]
                self._mp4 = cv2.VideoWriter(self.mp4_tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                                            self.fps, (w, h))
                if not self._mp4.isOpened():
                    self._mp4, self.mp4_available = None, False
                    return
            self._mp4.write(np.ascontiguousarray(frame[..., ::-1]))

    def close(self) -> Dict[str, str]:
        """Finish the files (still under temporary names); returns {final: temporary}."""
        if self.gif_tmp:
            if not self._gif_frames:
                raise ValueError('no frames were added to the animation')
            first, rest = self._gif_frames[0], self._gif_frames[1:]
            first.save(self.gif_tmp, format='GIF', save_all=True, append_images=rest,
                       duration=max(int(round(1000 / self.fps)), 20), loop=0)
            self._gif_frames = []
            self.written[self.gif_path] = self.gif_tmp
        if self._mp4 is not None:
            self._mp4.release()
            self._mp4 = None
            if osp.isfile(self.mp4_tmp) and osp.getsize(self.mp4_tmp) > 0:
                self.written[self.mp4_path] = self.mp4_tmp
            else:
                self.mp4_available = False
        if self.mp4_path and self.mp4_path not in self.written:
            self._files.discard(self.mp4_path)  # no MP4 writer here: no file to move
        return dict(self.written)

    def commit(self) -> list:
        """Move the finished files to their final names; returns those names."""
        for final in list(self._files.staged):
            if final not in self.written:
                self._files.discard(final)
        self._files.commit()
        done, self.written = list(self.written), {}
        return done

    def abort(self) -> None:
        if self._mp4 is not None:
            self._mp4.release()
            self._mp4 = None
        self._files.abort()
        self.written = {}
