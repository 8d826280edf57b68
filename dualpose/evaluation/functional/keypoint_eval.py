"""Per-frame 3D pose errors and scores (torch), shared by the metrics and the training losses.

Every function takes two tensors of the same shape ``(..., J, C)`` (usually ``C == 3``) with any
number of leading dimensions, and returns one value per frame (or per time step), shape
``(...,)``: errors in the units of the inputs (millimetres when the inputs are in
millimetres, normalised screen units when they are normalised), PCK and AUC in percent. The
errors are differentiable where noted, so losses call them directly: there is one formula per
concept.
"""
import torch
from torch import Tensor

__all__ = ['mpjpe', 'n_mpjpe', 'p_mpjpe', 'mpjve', 'accel_error', 'pck_3d', 'auc_3d',
           'per_joint_distance', 'weighted_mpjpe', 'relative_depth_error',
           'MPI_INF_3DHP_AUC_THRESHOLDS']

# MPI-INF-3DHP's evaluation script (mpii_compute_3d_pck.m): thresholds 0:5:150 mm
MPI_INF_3DHP_AUC_THRESHOLDS = tuple(float(t) for t in range(0, 151, 5))


def _check_pair(pred: Tensor, target: Tensor, name: str) -> None:
    if pred.shape != target.shape:
        raise ValueError(f'{name}: pred and target must have the same shape, got '
                         f'{tuple(pred.shape)} and {tuple(target.shape)}')
    if pred.dim() < 2:
        raise ValueError(f'{name}: expected (..., J, C) tensors, got shape {tuple(pred.shape)}')


def _time_dim(pred: Tensor, dim: int, name: str) -> int:
    ndim = pred.dim()
    d = dim + ndim if dim < 0 else dim
    if not 0 <= d < ndim - 2:
        raise ValueError(f'{name}: time dim {dim} must come before the joint dimension of a '
                         f'{ndim}-d tensor (..., T, J, C)')
    return d


def per_joint_distance(pred: Tensor, target: Tensor) -> Tensor:
    """Euclidean distance per joint.

    Args:
        pred (Tensor): (..., J, C) predicted joints.
        target (Tensor): (..., J, C) target joints, same units.

    Returns:
        Tensor: (..., J) distance of each joint, same units as the inputs.
    """
    return torch.linalg.vector_norm(pred - target, ord=2, dim=-1)


def mpjpe(pred: Tensor, target: Tensor) -> Tensor:
    """Mean per-joint position error (protocol #1) per frame.

    Args:
        pred (Tensor): (..., J, 3) predicted joints.
        target (Tensor): (..., J, 3) target joints, same units as ``pred``.

    Returns:
        Tensor: (...,) mean over the J joints of the L2 distance, in the inputs' units.
        Differentiable.
    """
    _check_pair(pred, target, 'mpjpe')
    return per_joint_distance(pred, target).mean(dim=-1)


def weighted_mpjpe(pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """MPJPE with a weight per joint, per frame (VideoPose3D's ``weighted_mpjpe``).

    Args:
        pred (Tensor): (..., J, 3) predicted joints.
        target (Tensor): (..., J, 3) target joints.
        weights (Tensor): (..., J) weight of each joint's distance (broadcast).

    Returns:
        Tensor: (...,) mean over J of ``weight * distance``. Differentiable. With
        ``weights = 1 / depth`` (the trajectory loss) the error is relative to the distance
        from the camera, so far people, whose error in mm grows with depth, do not dominate.
    """
    _check_pair(pred, target, 'weighted_mpjpe')
    return (weights * per_joint_distance(pred, target)).mean(dim=-1)


def relative_depth_error(pred: Tensor, target: Tensor) -> Tensor:
    """Depth error relative to the depth, per frame: mean over J of ``|z_p - z_t| / z_t``.

    Args:
        pred (Tensor): (..., J, 3) camera-space joints (z: the depth, > 0).
        target (Tensor): (..., J, 3) camera-space ground truth, same units.

    Returns:
        Tensor: (...,) a fraction (0.05 = 5 % of the distance).
    """
    _check_pair(pred, target, 'relative_depth_error')
    return ((pred[..., 2] - target[..., 2]).abs() / target[..., 2]).mean(dim=-1)


def n_mpjpe(pred: Tensor, target: Tensor) -> Tensor:
    """Scale-normalised MPJPE per frame (as MotionBERT's ``n_mpjpe``).

    ``pred`` of each frame is first multiplied by the least-squares scale
    ``s = sum(pred * target) / sum(pred * pred)`` (sums over the J joints and xyz of that frame),
    which minimises ``||s * pred - target||``; then the MPJPE is taken.

    Args:
        pred (Tensor): (..., J, 3) predicted joints.
        target (Tensor): (..., J, 3) target joints.

    Returns:
        Tensor: (...,) error in the units of ``target``. Differentiable. A frame whose
        prediction is all zeros gets scale 0 (its error is the mean norm of ``target``).
    """
    _check_pair(pred, target, 'n_mpjpe')
    dot = (pred * target).sum(dim=(-2, -1), keepdim=True)
    sq = (pred * pred).sum(dim=(-2, -1), keepdim=True)
    eps = torch.finfo(pred.dtype).eps if pred.is_floating_point() else 1e-12
    scale = dot / sq.clamp_min(eps)
    return mpjpe(scale * pred, target)


def p_mpjpe(pred: Tensor, target: Tensor) -> Tensor:
    """MPJPE after per-frame similarity Procrustes alignment (protocol #2).

    Each frame of ``pred`` is aligned to ``target`` by the similarity transform
    ``s * R @ x + t`` (isotropic scale ``s``, proper rotation ``R`` with ``det(R) = +1`` -
    reflections are excluded -, translation ``t``) that minimises the squared error, found with an
    SVD (``torch.linalg.svd``), then the MPJPE is taken. Computed in float64 when the input is
    float64 (the metric's case); not meant for training (no loss uses it).

    Args:
        pred (Tensor): (..., J, 3) predicted joints.
        target (Tensor): (..., J, 3) target joints.

    Returns:
        Tensor: (...,) error in the units of ``target``.
    """
    _check_pair(pred, target, 'p_mpjpe')
    eps = torch.finfo(pred.dtype).eps if pred.is_floating_point() else 1e-12
    mu_t = target.mean(dim=-2, keepdim=True)
    mu_p = pred.mean(dim=-2, keepdim=True)
    t0 = target - mu_t
    p0 = pred - mu_p
    norm_t = torch.linalg.vector_norm(t0, dim=(-2, -1), keepdim=True).clamp_min(eps)
    norm_p = torch.linalg.vector_norm(p0, dim=(-2, -1), keepdim=True).clamp_min(eps)
    t0 = t0 / norm_t
    p0 = p0 / norm_p

    # Row-vector convention: the aligned prediction is ``s * p0 @ rot + t``.
    h = t0.transpose(-1, -2) @ p0  # (..., C, C)
    u, sv, vh = torch.linalg.svd(h)
    v = vh.transpose(-1, -2)
    rot = v @ u.transpose(-1, -2)
    # Reflection fix: if det(rot) < 0, flip the last singular direction -> proper rotation.
    sign = torch.sign(torch.linalg.det(rot))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    v = torch.cat([v[..., :-1], v[..., -1:] * sign[..., None, None]], dim=-1)
    sv = torch.cat([sv[..., :-1], sv[..., -1:] * sign[..., None]], dim=-1)
    rot = v @ u.transpose(-1, -2)

    trace = sv.sum(dim=-1)[..., None, None]  # optimal scale in normalised coordinates
    scale = trace * norm_t / norm_p
    trans = mu_t - scale * (mu_p @ rot)
    aligned = scale * (pred @ rot) + trans
    return mpjpe(aligned, target)


def mpjve(pred: Tensor, target: Tensor, dim: int = -3) -> Tensor:
    """Mean per-joint velocity error per time step.

    The first differences along the time dimension ``dim`` (default -3, the one before J) of
    ``pred`` and ``target`` are compared with :func:`mpjpe`.

    Args:
        pred (Tensor): (..., T, J, 3) predicted sequence.
        target (Tensor): (..., T, J, 3) target sequence.
        dim (int): the time dimension; must be before the joint dimension.

    Returns:
        Tensor: (..., T-1) error of the velocities (inputs' units per frame). Differentiable.
        Empty along time when ``T == 1``.
    """
    _check_pair(pred, target, 'mpjve')
    d = _time_dim(pred, dim, 'mpjve')
    vel_pred = torch.diff(pred, dim=d)
    vel_target = torch.diff(target, dim=d)
    err = mpjpe(vel_pred, vel_target)  # time dim keeps its position d in the (...,) result
    return err


def accel_error(pred: Tensor, target: Tensor, dim: int = -3) -> Tensor:
    """Acceleration error per time step: :func:`mpjpe` of the second differences along time.

    ``a_t = x_{t+1} - 2 x_t + x_{t-1}`` of prediction and target are compared joint by joint
    (L2 distance, mean over joints), as the acceleration error of the video pose literature.

    Args:
        pred (Tensor): (..., T, J, 3) predicted sequence.
        target (Tensor): (..., T, J, 3) target sequence.
        dim (int): the time dimension; must be before the joint dimension.

    Returns:
        Tensor: (..., T-2) error of the accelerations (inputs' units per frame^2), for the
        middle frames 1..T-2. Empty along time when ``T < 3``.
    """
    _check_pair(pred, target, 'accel_error')
    d = _time_dim(pred, dim, 'accel_error')
    return mpjpe(torch.diff(pred, n=2, dim=d), torch.diff(target, n=2, dim=d))


def pck_3d(pred: Tensor, target: Tensor, threshold: float = 150.0) -> Tensor:
    """3D PCK per frame: percentage of joints closer than ``threshold`` to the target.

    The comparison is strict (``distance < threshold``), as in MPI-INF-3DHP's evaluation
    script, so a joint exactly at the threshold is not counted.

    Args:
        pred (Tensor): (..., J, 3) predicted joints (usually root-relative, mm).
        target (Tensor): (..., J, 3) target joints, same units.
        threshold (float): distance threshold in the inputs' units.

    Returns:
        Tensor: (...,) percentage in [0, 100]. Averaging frames with the same J gives the
        percentage over all (frame, joint) pairs, which is how the script pools them.
    """
    _check_pair(pred, target, 'pck_3d')
    dist = per_joint_distance(pred, target)
    return (dist < threshold).to(dist.dtype).mean(dim=-1) * 100.0


def auc_3d(pred: Tensor, target: Tensor,
           thresholds=MPI_INF_3DHP_AUC_THRESHOLDS) -> Tensor:
    """Area under the 3D PCK curve per frame: the mean of :func:`pck_3d` over ``thresholds``.

    With the default thresholds 0, 5, ..., 150 mm (31 values) this is MPI-INF-3DHP's AUC. The
    threshold 0 never counts a joint (strict comparison), so a perfect prediction scores
    ``100 * 30 / 31 = 96.77``, exactly as the MATLAB script does.

    Returns:
        Tensor: (...,) percentage in [0, 100].
    """
    _check_pair(pred, target, 'auc_3d')
    dist = per_joint_distance(pred, target)
    thr = torch.as_tensor(list(thresholds), dtype=dist.dtype, device=dist.device)
    if thr.numel() == 0:
        raise ValueError('auc_3d: need at least one threshold')
    hits = (dist[..., None] < thr).to(dist.dtype)  # (..., J, K)
    return hits.mean(dim=(-2, -1)) * 100.0
