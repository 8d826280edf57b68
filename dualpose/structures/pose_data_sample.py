"""The one structure that carries a clip's labels and metainfo between components."""
from mmengine.structures import BaseDataElement


class PoseDataSample(BaseDataElement):
    """Labels, predictions and metainfo of one clip of T frames.

    Metainfo (set by the dataset, read by the estimator and the metric):
        video_id (str): the video (``source``) the clip was cut from.
        action (str): action name.
        camera_name (str): camera id.
        image_size (tuple[int, int]): (w, h) in pixels; normalisation divides by w.
        frame_indices (np.ndarray): (T,) int64 indices of the clip's frames in the split.
        factor_2_5d (np.ndarray): (T,) millimetres per pixel (the pickle's ``2.5d_factor``).
        flip_indices (list[int]): joint index each joint maps to under a left-right flip.
        root_index (int): the root joint.
        frame_valid (np.ndarray): (T,) bool, frames the metric scores (MPI-INF-3DHP's
            valid-frame flags); absent means all.

    Data fields:
        gt_target (Tensor): (T, J, 3) root-relative 3D target, normalised screen units.
        gt_mm (Tensor): (T, J, 3) root-relative 3D ground truth in millimetres (test splits).
        pred (Tensor): (T, J, 3) root-relative prediction, normalised screen units.
    """
