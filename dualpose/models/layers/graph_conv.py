"""Graph convolutions over the skeleton (joints of a frame) and over time (frames of a joint).

Both follow ``X' = ReLU(X + Norm(A_hat V(X) + U(X)))`` with ``A_hat = D^-1/2 A D^-1/2`` of a
graph without self-loops (U is the self term). Norm is a LayerNorm over channels, so nothing
depends on the number of frames or joints at build time (no BatchNorm over nodes).
"""
from abc import ABCMeta, abstractmethod
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from dualpose.models.utils.ring_cache import is_ring_cache, new_ring_cache
from dualpose.structures.skeleton import normalized_adjacency


class _GraphConvBase(nn.Module, metaclass=ABCMeta):

    def __init__(self, dim: int):
        super().__init__()
        self.U = nn.Linear(dim, dim)
        self.V = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    @abstractmethod
    def aggregate(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``A_hat V(x)``: messages from the neighbours; (B, T, J, C) -> (B, T, J, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, J, C) -> (B, T, J, C)."""
        return self.combine(x, self.aggregate(x, self.V(x)))

    def combine(self, x: torch.Tensor, messages: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.norm(messages + self.U(x)))


class SkeletonGraphConv(_GraphConvBase):
    """Graph convolution over the skeleton's bones; ``A_hat`` is computed once at build time.

    Args:
        dim (int): channels.
        skeleton_links (list[tuple[int, int]]): bones, from the dataset metainfo.
        num_joints (int): J.
    """

    def __init__(self, dim: int, skeleton_links: Sequence[Tuple[int, int]], num_joints: int):
        super().__init__(dim)
        self.num_joints = num_joints
        self.register_buffer('adj', normalized_adjacency(skeleton_links, num_joints),
                             persistent=False)

    def aggregate(self, x, v):
        if v.shape[2] != self.num_joints:
            raise ValueError(f'SkeletonGraphConv was built for {self.num_joints} joints but got '
                             f'input of shape {tuple(x.shape)} (B, T, J, C)')
        # (J, J) @ (B, T, J, C): a batched matmul over the (B*T, J, C) view, no copy of v
        return torch.matmul(self.adj.to(v.dtype), v)


def banded_adjacency(num_frames: int) -> torch.Tensor:
    """Dense ``A_hat`` of the chain graph t - (t+1) over T frames: (T, T). Reference only."""
    links = [(t, t + 1) for t in range(num_frames - 1)]
    return normalized_adjacency(links, num_frames)


class TemporalGraphConv(_GraphConvBase):
    """Graph convolution over the frames of each joint.

    Args:
        dim (int): channels.
        mode (str): ``'banded'``: each frame linked to its neighbours t-1 and t+1 (the paper),
            aggregated in O(T) with shifts; ``'knn'``: each frame linked to its ``k`` most
            similar frames (dot product of features, per joint), where every row has degree
            k so ``A_hat`` reduces to the mean over the k neighbours.
        k (int): neighbours in ``'knn'`` mode (clamped to the frames there are).
        knn_self (bool): in ``'knn'`` mode, whether a frame may be among its own neighbours
            (True, the default: MotionAGFormer's top-k over all frames, where a frame is
            usually its own nearest) or is left out (False: k other frames).
        dense (bool): use the dense (T, T) reference computation (for tests).
        causal (bool): link each frame to past frames only (live lifting): ``'banded'``
            takes the message of t-1 alone (weight 1; none for the first frame), ``'knn'``
            the mean over the k most similar earlier frames (fewer while fewer exist).
        window (int, optional): with ``causal``, ``'knn'`` looks back over the last
            ``window`` frames, the current one included (as the causal attention).
    """

    def __init__(self, dim: int, mode: str = 'banded', k: int = 2, dense: bool = False,
                 causal: bool = False, window: Optional[int] = None, knn_self: bool = True):
        super().__init__(dim)
        if mode not in ('banded', 'knn'):
            raise ValueError(f"temporal graph mode must be 'banded' or 'knn', got {mode!r}")
        if window is not None and (not causal or int(window) < 1):
            raise ValueError(f'window={window}: a look-back needs causal=True and window >= 1')
        self.mode = mode
        self.k = k
        self.dense = dense
        self.causal = causal
        self.window = None if window is None else int(window)
        self.knn_self = knn_self

    def aggregate(self, x, v):
        t = v.shape[1]
        if t == 1 and not (self.mode == 'knn' and self.knn_self):
            return torch.zeros_like(v)
        if self.causal:
            return self._causal_knn(x, v) if self.mode == 'knn' else F.pad(
                v[:, :-1], (0, 0, 0, 0, 1, 0))
        if self.mode == 'banded':
            return self._banded_dense(v) if self.dense else self._banded(v)
        return self._knn(x, v)

    @staticmethod
    def _banded(v):
        t = v.shape[1]
        deg = torch.full((t,), 2.0, dtype=v.dtype, device=v.device)
        deg[0] = deg[-1] = 1.0
        w = deg.rsqrt().view(1, t, 1, 1)
        vs = v * w
        # message from t-1 (zero for the first frame) plus message from t+1 (zero for the last)
        from_prev = F.pad(vs[:, :-1], (0, 0, 0, 0, 1, 0))
        from_next = F.pad(vs[:, 1:], (0, 0, 0, 0, 0, 1))
        return (from_prev + from_next) * w

    @staticmethod
    def _banded_dense(v):
        adj = banded_adjacency(v.shape[1]).to(device=v.device, dtype=v.dtype)
        return torch.einsum('ts,bsjc->btjc', adj, v)

    def _knn_indices(self, x):
        """(B, T, J, C) -> (B, J, T, k) indices of the k most similar frames (other frames
        without ``knn_self``)."""
        t = x.shape[1]
        k = min(self.k, t if self.knn_self else t - 1)
        feats = x.detach().transpose(1, 2)  # (B, J, T, C)
        sim = feats @ feats.transpose(-1, -2)  # (B, J, T, T)
        if not self.knn_self:
            # a float identity compared: ONNX Runtime has no boolean EyeLike
            eye = torch.eye(t, dtype=sim.dtype, device=x.device) > 0
            sim = sim.masked_fill(eye, float('-inf'))
        return sim.topk(k, dim=-1).indices

    def _past_knn(self, sim: torch.Tensor, allowed: torch.Tensor, v_bj: torch.Tensor):
        """Mean of the values of the k most similar allowed frames. sim, allowed: (BJ, Tq,
        Tk); v_bj: (BJ, Tk, C) -> (BJ, Tq, C), zero where no frame is allowed."""
        k = min(self.k, sim.shape[-1])
        top, idx = sim.masked_fill(~allowed, float('-inf')).topk(k, dim=-1)
        valid = torch.isfinite(top).to(v_bj.dtype)  # (BJ, Tq, k)
        rows = torch.arange(v_bj.shape[0], device=v_bj.device).view(-1, 1, 1)
        gathered = v_bj[rows, idx] * valid.unsqueeze(-1)  # (BJ, Tq, k, C)
        return gathered.sum(2) / valid.sum(-1, keepdim=True).clamp(min=1)

    def _causal_knn(self, x, v):
        b, t, j, c = v.shape
        feats = x.detach().transpose(1, 2).reshape(b * j, t, c)
        lag = torch.arange(t, device=x.device).view(-1, 1) - torch.arange(
            t, device=x.device).view(1, -1)
        allowed = lag >= 0 if self.knn_self else lag > 0
        if self.window is not None:
            allowed = allowed & (lag < self.window)   # not in place (ONNX export)
        out = self._past_knn(feats @ feats.transpose(-1, -2), allowed.expand(b * j, t, t),
                             v.transpose(1, 2).reshape(b * j, t, c))
        return out.view(b, j, t, c).transpose(1, 2)

    def step(self, x: torch.Tensor, cache: dict) -> torch.Tensor:
        """One new frame ``x`` (B, 1, J, C) of a causal layer, given what it kept of the
        frames before: a growing cache (empty at the first frame, updated in place) or a
        ring of fixed size (:meth:`init_cache`; the new frame's rows are left in
        ``cache['new']`` for :func:`~dualpose.models.utils.ring_cache.write_new_frame`).
        Equals the last frame of :meth:`forward` over all the frames so far."""
        if not self.causal:
            raise RuntimeError('TemporalGraphConv.step needs a causal layer (causal=True)')
        v = self.V(x)
        ring = is_ring_cache(cache)
        if self.mode == 'banded':   # the message of the frame before
            if ring:
                messages = cache['v'] * cache['valid'].to(v.dtype)
                cache['new'] = dict(v=v)
            else:
                messages = cache['v'] if cache else torch.zeros_like(v)
                cache['v'] = v
            return self.combine(x, messages)
        b, _, j, c = v.shape
        feat = x.detach().transpose(1, 2).reshape(b * j, 1, c)
        vj = v.transpose(1, 2).reshape(b * j, 1, c)
        if ring:
            messages = self._ring_knn(feat, vj, cache)
            cache['new'] = dict(x=feat, v=vj)
            return self.combine(x, messages.view(b, j, 1, c).transpose(1, 2))
        if cache:  # the candidates: the kept past frames, then this one
            past_f, past_v = torch.cat([cache['x'], feat], 1), torch.cat([cache['v'], vj], 1)
        else:
            past_f, past_v = feat, vj
        n = past_f.shape[1] if self.knn_self else past_f.shape[1] - 1
        if n > 0:
            sim = feat @ past_f[:, :n].transpose(-1, -2)  # (BJ, 1, n)
            messages = self._past_knn(sim, torch.ones_like(sim, dtype=torch.bool),
                                      past_v[:, :n]).view(b, j, 1, c).transpose(1, 2)
        else:
            messages = torch.zeros_like(v)
        if self.window is not None:  # the frames the next one may link to
            start = max(past_f.shape[1] - (self.window - 1), 0)
            past_f, past_v = past_f[:, start:], past_v[:, start:]
        cache['x'], cache['v'] = past_f, past_v
        return self.combine(x, messages)

    def _ring_knn(self, feat, vj, cache):
        """Messages (BJ, 1, C) of the new frame from the k most similar of the ring's real
        frames (and itself with ``knn_self``), without joining the ring and the new frame
        into one tensor (that would copy the ring)."""
        ring_x, ring_v, valid = cache['x'], cache['v'], cache['valid']
        n = ring_x.shape[1]
        own = (feat * feat).sum(-1, keepdim=True)                 # (BJ, 1, 1)
        sim = torch.cat([feat @ ring_x.transpose(-1, -2), own], -1)  # (BJ, 1, n + 1)
        allowed = torch.cat([valid, valid.new_full((1,), self.knn_self)]).expand_as(sim)
        k = min(self.k, n + 1)
        top, idx = sim.masked_fill(~allowed, float('-inf')).topk(k, dim=-1)
        real = torch.isfinite(top).to(vj.dtype).unsqueeze(-1)    # (BJ, 1, k, 1)
        is_own = (idx == n).to(vj.dtype).unsqueeze(-1)
        rows = torch.arange(ring_v.shape[0], device=vj.device).view(-1, 1, 1)
        past = ring_v[rows, idx.clamp(max=max(n - 1, 0))] if n else torch.zeros_like(
            vj).unsqueeze(2)
        gathered = (past * (1 - is_own) + vj.unsqueeze(2) * is_own) * real  # (BJ, 1, k, C)
        return gathered.sum(2) / real.sum(2).clamp(min=1)

    def init_cache(self, batch: int, num_joints: int, like: torch.Tensor) -> dict:
        """A ring of fixed size for :meth:`step` (:mod:`~dualpose.models.utils.ring_cache`):
        the previous frame's values (banded) or the features and values of the last
        ``window - 1`` frames (k-NN), all empty at the start."""
        c = self.V.in_features
        if self.mode == 'banded':
            return new_ring_cache(1, like.device, v=(like.new_zeros(batch, 1, num_joints, c), 1))
        if self.window is None:
            raise ValueError('fixed-size caches need a bounded look-back (window=W)')
        n = max(self.window - 1, 0)
        return new_ring_cache(n, like.device,
                              x=(like.new_zeros(batch * num_joints, n, c), 1),
                              v=(like.new_zeros(batch * num_joints, n, c), 1))

    def _knn(self, x, v):
        idx = self._knn_indices(x)
        b, t, j, c = v.shape
        k = idx.shape[-1]
        if self.dense:
            adj = torch.zeros(b, j, t, t, dtype=v.dtype, device=v.device)
            adj.scatter_(-1, idx, 1.0)
            deg = adj.sum(-1)  # k for every frame
            inv = deg.clamp(min=1e-12).rsqrt()
            adj = inv.unsqueeze(-1) * adj * inv.unsqueeze(-2)
            return torch.einsum('bjts,bsjc->btjc', adj, v)
        vj = v.transpose(1, 2).reshape(b * j, t, c)
        rows = torch.arange(b * j, device=v.device).view(-1, 1, 1)
        gathered = vj[rows, idx.reshape(b * j, t, k)]  # (B*J, T, k, C)
        return gathered.mean(dim=2).view(b, j, t, c).transpose(1, 2)
