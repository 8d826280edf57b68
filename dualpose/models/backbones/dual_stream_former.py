"""DualStreamFormer: embedding, N dual-stream (Transformer + GCN) blocks, final norm."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dualpose.models.utils.ring_cache import write_new_frames
from dualpose.registry import MODELS

ConfigType = Dict


@MODELS.register_module()
class DualStreamBlock(nn.Module):
    """Streams run in parallel on the same input; their outputs are fused per token.

    Args:
        dim (int): channels C.
        streams (list[dict]): stream configs (e.g. ``TransformerStream``, ``GCNStream``). Each
            receives ``dim``, ``mlp_ratio``, ``drop_path``, ``layer_scale_init``,
            ``skeleton_links`` and ``num_joints`` (see ``BaseStream``).
        fusion (dict): fusion config (``AdaptiveFusion`` / ``MeanFusion``), built with ``dim``
            and ``num_streams``; unused with a single stream.
    """

    def __init__(self, dim: int, streams: Sequence[ConfigType], fusion: ConfigType,
                 mlp_ratio: float = 4.0, drop_path: float = 0.0,
                 layer_scale_init: Optional[float] = 1e-5,
                 skeleton_links: Optional[Sequence[Tuple[int, int]]] = None,
                 num_joints: Optional[int] = None, causal: bool = False,
                 window: Optional[int] = None):
        super().__init__()
        if len(streams) == 0:
            raise ValueError('DualStreamBlock needs at least one stream config')
        common = dict(dim=dim, mlp_ratio=mlp_ratio, drop_path=drop_path,
                      layer_scale_init=layer_scale_init, skeleton_links=skeleton_links,
                      num_joints=num_joints)
        if causal:  # only causal models pass these, so other streams need not take them
            common.update(causal=True, window=window)
        self.streams = nn.ModuleList(MODELS.build({**cfg, **common}) for cfg in streams)
        self.fusion = (MODELS.build(dict(fusion, dim=dim, num_streams=len(streams)))
                       if len(streams) > 1 else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, J, C) -> (B, T, J, C)."""
        outs = [stream(x) for stream in self.streams]
        return outs[0] if self.fusion is None else self.fusion(outs)

    def step(self, x: torch.Tensor, caches: List[dict]) -> torch.Tensor:
        """One new frame (B, 1, J, C) of a causal block; one cache per stream."""
        outs = [stream.step(x, cache) for stream, cache in zip(self.streams, caches)]
        return outs[0] if self.fusion is None else self.fusion(outs)


@MODELS.register_module()
class DualStreamFormer(BaseModule):
    """Dual-stream Transformer-GCN backbone for 2D-to-3D lifting.

    ``Linear(in_channels -> C)`` + learned spatial position embedding (1, J, C), N blocks, then
    LayerNorm. Runs on any sequence length T; J is fixed by the skeleton given at build time.

    Args:
        arch (str | dict): ``'xs'`` (C 64, N 12), ``'s'`` (C 64, N 26), ``'b'`` (C 128, N 16),
            ``'l'`` (C 256, N 16), or a dict with ``embed_dims``, ``depth`` and optionally
            ``num_heads`` (8) and ``mlp_ratio`` (4).
        skeleton_links (list[tuple[int, int]]): bones, from the dataset metainfo.
        num_joints (int): J, from the dataset metainfo.
        in_channels (int): per-joint input features (x, y, confidence: 3).
        streams (list[str]): which streams each block holds, by name: ``'transformer'`` and/or
            ``'gcn'``. ``('transformer',)`` and ``('gcn',)`` are the single-stream ablations.
        transformer_stream (dict): config of the Transformer stream (``type`` defaults to
            ``'TransformerStream'``), e.g. ``dict(attn_impl='fused')``.
        gcn_stream (dict): config of the GCN stream (``type`` defaults to ``'GCNStream'``;
            ``temporal_graph='banded'|'knn'``).
        fusion (dict): ``dict(type='AdaptiveFusion')`` (default) or ``dict(type='MeanFusion')``.
        drop_rate (float): dropout after the embedding.
        drop_path_rate (float): stochastic depth, rising linearly over the blocks.
        layer_scale_init (float | None): layer scale initial value (1e-5).
        temporal_pos_embed (bool): add a learned temporal position embedding (the paper does
            not; kept for the ablation). Needs ``max_frames``.
        max_frames (int): longest T the temporal embedding supports.
        causal (bool): every temporal layer looks at past frames only, so that the output
            of frame t depends on frames <= t: a model for live lifting (:meth:`step`,
            :class:`dualpose.apis.LiftingStream`). Per-frame layers are unchanged.
        window (int, optional): with ``causal``, each temporal layer looks back over the
            last ``window`` frames (itself included); the live caches keep that many frames.
            The causal configs set it to the training clip length.
        lookahead (int): with ``causal``, L >= 0 frames of look-ahead: the estimate of frame
            t is read at position t + L, so it sees the L frames after t (and the output
            of a live stream lags L frames behind the input). The backbone's layers are
            unchanged; :class:`~dualpose.models.PoseLifter` aligns its outputs with the
            input frames (:meth:`aligned`).
    """
    # the keys a dict-valued argument may hold (checked by dualpose.utils.config_check)
    config_keys = {'arch': {'embed_dims': int, 'depth': int, 'num_heads': int,
                            'mlp_ratio': float}}
    # the input embedding's parameters: what a CRL teacher shares with the student when
    # ContextualDistiller(teacher=dict(share_embedding=True))
    embedding_names = ('embed', 'spatial_pos', 'temporal_pos')
    arch_zoo = {
        'xs': dict(embed_dims=64, depth=12),
        's': dict(embed_dims=64, depth=26),
        'b': dict(embed_dims=128, depth=16),
        'l': dict(embed_dims=256, depth=16),
    }

    def __init__(self,
                 skeleton_links: Sequence[Tuple[int, int]],
                 num_joints: int,
                 arch: Union[str, dict] = 'b',
                 in_channels: int = 3,
                 streams: Sequence[str] = ('transformer', 'gcn'),
                 transformer_stream: ConfigType = dict(type='TransformerStream'),
                 gcn_stream: ConfigType = dict(type='GCNStream', temporal_graph='banded'),
                 fusion: ConfigType = dict(type='AdaptiveFusion'),
                 drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0,
                 layer_scale_init: Optional[float] = 1e-5,
                 temporal_pos_embed: bool = False,
                 max_frames: int = 243,
                 causal: bool = False,
                 window: Optional[int] = None,
                 lookahead: int = 0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch.lower() not in self.arch_zoo:
                raise KeyError(f'unknown arch {arch!r}; choose from {sorted(self.arch_zoo)} '
                               'or pass a dict(embed_dims=..., depth=...)')
            arch = self.arch_zoo[arch.lower()]
        arch = {'num_heads': 8, 'mlp_ratio': 4.0, **arch}
        self.embed_dims = dim = arch['embed_dims']
        self.depth = arch['depth']
        self.num_joints = num_joints
        self.in_channels = in_channels
        self.max_frames = max_frames
        if window is not None and not causal:
            raise ValueError(f'window={window} is the look-back of a causal model; set '
                             'causal=True too')
        if causal and temporal_pos_embed:
            raise ValueError('a causal (live) model cannot use temporal_pos_embed: a frame\'s '
                             'position in a stream has no fixed window to index')
        if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 0:
            raise ValueError(f'lookahead must be an integer number of frames >= 0, got '
                             f'{lookahead!r}')
        if lookahead and not causal:
            raise ValueError(f'lookahead={lookahead} is the look-ahead of a causal model; set '
                             'causal=True too (a non-causal model sees the whole window)')
        self.causal = causal
        self.window = window
        self.lookahead = lookahead

        # a partial stream dict (e.g. from --cfg-options ...transformer_stream.attn_impl=math)
        # keeps the default type
        stream_cfgs = {'transformer': {'type': 'TransformerStream',
                                       'num_heads': arch['num_heads'], **transformer_stream},
                       'gcn': {'type': 'GCNStream', **gcn_stream}}
        unknown = [s for s in streams if s not in stream_cfgs]
        if unknown or not streams:
            raise ValueError(f'streams must be a non-empty subset of {list(stream_cfgs)}, '
                             f'got {list(streams)}')
        chosen = [stream_cfgs[s] for s in streams]

        self.embed = nn.Linear(in_channels, dim)
        self.spatial_pos = nn.Parameter(torch.zeros(1, 1, num_joints, dim))
        self.temporal_pos = (nn.Parameter(torch.zeros(1, max_frames, 1, dim))
                             if temporal_pos_embed else None)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.ModuleList(
            DualStreamBlock(dim, chosen, fusion, mlp_ratio=arch['mlp_ratio'],
                            drop_path=rates[i], layer_scale_init=layer_scale_init,
                            skeleton_links=skeleton_links, num_joints=num_joints,
                            causal=causal, window=window)
            for i in range(self.depth))
        self.norm = nn.LayerNorm(dim)
        self._init_weights()

    def _init_weights(self):
        nn.init.trunc_normal_(self.spatial_pos, std=0.02)
        if self.temporal_pos is not None:
            nn.init.trunc_normal_(self.temporal_pos, std=0.02)
        fusion_layers = {id(m) for blk in self.blocks if blk.fusion is not None
                         for m in blk.fusion.modules()}
        for m in self.modules():
            if isinstance(m, nn.Linear) and id(m) not in fusion_layers:
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def check_input(self, x: torch.Tensor):
        if x.dim() != 4 or x.shape[2] != self.num_joints or x.shape[3] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} expects input (B, T, J={self.num_joints}, '
                f'C={self.in_channels}), got shape {tuple(x.shape)}')
        if self.temporal_pos is not None and x.shape[1] > self.max_frames:
            raise ValueError(f'T={x.shape[1]} exceeds max_frames={self.max_frames} of the '
                             'temporal position embedding')

    def forward(self, x: torch.Tensor, return_layers: bool = False,
                token_mask: Optional[torch.Tensor] = None,
                mask_token: Optional[torch.Tensor] = None, mask_position: str = 'after_pos'):
        """x: (B, T, J, in_channels) -> features (B, T, J, C).

        Args:
            return_layers: also return the list of the N block outputs (before the final
                norm), e.g. as pre-training targets.
            token_mask: (B, T, J) bool; where True the token is replaced by ``mask_token``
                (C,) (masked pre-training with a learned mask embedding), at
                ``mask_position``: ``'after_pos'``, after the position embeddings are added
                (the public code's), or ``'before_pos'``, right after the input embedding,
                so that the mask token gets its joint's position embedding.
        """
        self.check_input(x)
        if token_mask is not None and mask_position not in ('after_pos', 'before_pos'):
            raise ValueError("mask_position must be 'after_pos' or 'before_pos', got "
                             f'{mask_position!r}')
        x = self.embed(x)
        if token_mask is not None and mask_position == 'before_pos':
            x = torch.where(token_mask.unsqueeze(-1), mask_token.to(x.dtype), x)
        x = x + self.spatial_pos
        if self.temporal_pos is not None:
            x = x + self.temporal_pos[:, :x.shape[1]]
        if token_mask is not None and mask_position == 'after_pos':
            x = torch.where(token_mask.unsqueeze(-1), mask_token.to(x.dtype), x)
        x = self.pos_drop(x)
        layers: List[torch.Tensor] = []
        for blk in self.blocks:
            x = blk(x)
            if return_layers:
                layers.append(x)
        x = self.norm(x)
        return (x, layers) if return_layers else x

    def aligned(self, x: torch.Tensor) -> torch.Tensor:
        """Features (B, T, J, C) whose frame t is the estimate for input frame t, with the
        look-back and ``lookahead`` of a live stream: the input is extended by ``lookahead``
        copies of its last frame (as a stream's end is flushed) and read ``lookahead``
        positions later. Equals :meth:`forward` without look-ahead."""
        if not self.lookahead:
            return self(x)
        pad = x[:, -1:].expand(-1, self.lookahead, -1, -1)
        return self(torch.cat([x, pad], 1))[:, self.lookahead:]

    def init_state(self, batch: Optional[int] = None) -> List[List[dict]]:
        """Caches for :meth:`step`: one dict per stream of each block. Empty ones that grow
        to the look-back, or, given ``batch`` (rows per step), rings of fixed size holding
        ``window - 1`` frames (:mod:`~dualpose.models.utils.ring_cache`), so that every step
        has the same shapes (an exported or compiled step) and copies one frame's row per
        layer instead of the whole look-back; needs ``window``."""
        if not self.causal:
            raise RuntimeError('step-by-step inference needs a causal backbone '
                               '(DualStreamFormer(causal=True))')
        if batch is None:
            return [[{} for _ in blk.streams] for blk in self.blocks]
        like = self.spatial_pos
        return [[stream.init_cache(batch, self.num_joints, like) for stream in blk.streams]
                for blk in self.blocks]

    def step(self, x: torch.Tensor, state: List[List[dict]],
             write: bool = True) -> torch.Tensor:
        """The features of one new frame of a causal model: x (B, 1, J, in_channels) ->
        (B, 1, J, C), given the ``state`` of the frames before it (from :meth:`init_state`,
        updated in place). Over a sequence, equals :meth:`forward`'s frames one by one.

        ``write=False`` leaves the rings as they are, the new frame's rows in each cache's
        ``new`` (an exported step returns them; the caller writes them with
        :func:`~dualpose.models.utils.ring_cache.write_new_frames`)."""
        if len(state) != len(self.blocks):
            raise ValueError(f'state holds {len(state)} blocks, the backbone has '
                             f'{len(self.blocks)}; start from init_state()')
        self.check_input(x)
        x = self.pos_drop(self.embed(x) + self.spatial_pos)
        for blk, caches in zip(self.blocks, state):
            x = blk.step(x, caches)
        if write:
            write_new_frames(state)
        return self.norm(x)
