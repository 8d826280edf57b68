"""One self-contained HTML file per run: the 3D of every person, played, with the 2D beside it.

Everything is in the file (the data as JSON, the drawing code as plain JavaScript on two
canvases): it opens from disk with no network. Drag to orbit, wheel to zoom, space or the
button to play and pause, the slider to pick a frame. ``#frame=N`` in the address opens frame
N paused (used by the tests to take screenshots at given times); ``#frame=N&play=1`` plays.
``document.body.dataset.status`` holds ``'drawn frame N'`` after each drawing, or the error.
"""
import json
from typing import Optional, Sequence

import numpy as np

__all__ = ['viewer_html', 'VIEWER_TEMPLATE']


def _rounded(a, digits):
    a = np.round(np.asarray(a, dtype=np.float64), digits)
    return np.where(np.isfinite(a), a, None).tolist()


def viewer_html(points_3d: np.ndarray, keypoints_2d: np.ndarray, links, flip_pairs=(),
                track_ids: Optional[Sequence[int]] = None, image_size=(1, 1),
                fps: float = 30.0, title: str = '', units_3d: str = 'mm, camera frame',
                notes: str = '', joint_names: Optional[Sequence[str]] = None) -> str:
    """The viewer page for P people.

    Args:
        points_3d: (P, T, J, 3): camera-space mm (x right, y down, z forward), or any 3D in
            the same axes (root-relative poses are drawn side by side then); NaN = absent.
        keypoints_2d: (P, T, J, 2) pixels; NaN = absent.
        links, flip_pairs: the skeleton; flip pairs (right, left) as in the metainfo (left
            bones drawn blue, right red, as in the other pictures).
        track_ids: (P,) labels; image_size: (w, h) of the 2D; fps: playback rate.
        units_3d, notes: written on the page.
        joint_names: names with 'left' / 'right' in them give the sides (else flip_pairs).

    Returns:
        str: the HTML document.
    """
    pts = np.asarray(points_3d, dtype=np.float64)
    k2d = np.asarray(keypoints_2d, dtype=np.float64)
    if pts.ndim != 4 or pts.shape[-1] != 3 or k2d.shape[:3] != pts.shape[:3]:
        raise ValueError(f'viewer_html: points_3d (P, T, J, 3) and keypoints_2d (P, T, J, 2) '
                         f'expected, got {pts.shape} and {k2d.shape}')
    if joint_names is not None:   # sides from the names ('left_...', 'right_...')
        left = [j for j, n in enumerate(joint_names) if 'left' in str(n).lower()]
        right = [j for j, n in enumerate(joint_names) if 'right' in str(n).lower()]
    else:   # the first of each flip pair as the other pictures draw it
        right = sorted({a for a, _ in flip_pairs})
        left = sorted({b for _, b in flip_pairs})
    ids = list(range(len(pts))) if track_ids is None else [int(i) for i in track_ids]
    data = dict(p3=_rounded(pts, 1), p2=_rounded(k2d, 1), links=[list(map(int, l)) for l in links],
                left=left, right=right, ids=ids, size=[float(v) for v in image_size],
                fps=float(fps), title=str(title), units=str(units_3d), notes=str(notes))
    payload = json.dumps(data, separators=(',', ':'), allow_nan=False).replace('</', '<\\/')
    return VIEWER_TEMPLATE.replace('__TITLE__', _escape(title)).replace('__DATA__', payload)


def _escape(text: str) -> str:
    return (str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'))


VIEWER_TEMPLATE = r'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:13px sans-serif;margin:8px;background:#fafafa;color:#222}
#views{display:flex;gap:8px}canvas{background:#fff;border:1px solid #ccc}
#bar{margin:6px 0;display:flex;gap:8px;align-items:center}#t{flex:1}
small{color:#666}
</style></head><body data-status="loading">
<div><b id="title"></b> <small id="info"></small></div>
<div id="views"><canvas id="v3" width="640" height="480" title="drag: orbit, wheel: zoom"></canvas>
<canvas id="v2" width="480" height="480"></canvas></div>
<div id="bar"><button id="play">play</button><input id="t" type="range" min="0" value="0">
<span id="label"></span></div>
<div><small id="notes"></small></div>
<script>
"use strict";
window.addEventListener('error', function (e) {
  document.body.dataset.status = 'error: ' + e.message;
});
const D = __DATA__;
const P = D.p3.length, T = P ? D.p3[0].length : 0;
const colours = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
                 '#9a6324', '#469990', '#808000'];
const side = j => D.left.indexOf(j) >= 0 ? 'L' : (D.right.indexOf(j) >= 0 ? 'R' : 'C');
let frame = 0, playing = false, yaw = -0.6, pitch = 0.35, zoom = 1.0, last = null;
const v3 = document.getElementById('v3'), v2 = document.getElementById('v2');
const slider = document.getElementById('t');
slider.max = Math.max(T - 1, 0);
document.getElementById('title').textContent = D.title;
document.getElementById('info').textContent = P + ' people, ' + T + ' frames at ' + D.fps +
  ' fps; 3D in ' + D.units + '; drag to orbit, wheel to zoom, space to play';
document.getElementById('notes').textContent = D.notes;
// the scene's centre and size over every person and frame
let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
for (const person of D.p3) for (const pose of person) for (const q of pose) {
  if (q === null || q[0] === null) continue;
  for (let k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], q[k]); hi[k] = Math.max(hi[k], q[k]); }
}
if (!isFinite(lo[0])) { lo = [-1, -1, -1]; hi = [1, 1, 1]; }
const centre = [0, 1, 2].map(k => (lo[k] + hi[k]) / 2);
const extent = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], 1e-6);
function view(q) {   // orbit about the centre; screen x right, y down (the data's y is down)
  const x = q[0] - centre[0], y = q[1] - centre[1], z = q[2] - centre[2];
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const x1 = cy * x - sy * z, z1 = sy * x + cy * z;
  const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
  const s = zoom * 0.8 * Math.min(v3.width, v3.height) / extent;
  const persp = 1 / (1 + z2 / (3 * extent));
  return [v3.width / 2 + s * x1 * persp, v3.height / 2 + s * y2 * persp, z2];
}
function bone(ctx, a, b, colour, width) {
  ctx.strokeStyle = colour; ctx.lineWidth = width;
  ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
}
function boneColour(i, a, b) {
  const s = side(b) !== 'C' ? side(b) : side(a);
  return s === 'L' ? '#1f5fd6' : (s === 'R' ? '#d62728' : colours[i % colours.length]);
}
function draw3d() {
  const ctx = v3.getContext('2d');
  ctx.clearRect(0, 0, v3.width, v3.height);
  // the floor-free reference: the camera's axes at the origin if it is in view
  const o = view([0, 0, 0]), ax = [[extent / 4, 0, 0], [0, extent / 4, 0], [0, 0, extent / 4]];
  ['#d62728', '#2ca02c', '#1f77b4'].forEach((c, k) => bone(ctx, o, view(ax[k]), c, 1));
  ctx.fillStyle = '#666'; ctx.fillText('camera', o[0] + 4, o[1] - 4);
  for (let i = 0; i < P; i++) {
    const pose = D.p3[i][frame];
    if (!pose || pose[0] === null || pose[0][0] === null) continue;
    const pts = pose.map(view);
    for (const [a, b] of D.links) bone(ctx, pts[a], pts[b], boneColour(i, a, b), 3);
    ctx.fillStyle = colours[i % colours.length];
    ctx.fillText('track ' + D.ids[i], pts[0][0] + 6, pts[0][1]);
  }
}
function draw2d() {
  const ctx = v2.getContext('2d');
  const s = Math.min(v2.width / D.size[0], v2.height / D.size[1]);
  ctx.clearRect(0, 0, v2.width, v2.height);
  ctx.strokeStyle = '#999'; ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, D.size[0] * s - 1, D.size[1] * s - 1);
  for (let i = 0; i < P; i++) {
    const pose = D.p2[i][frame];
    if (!pose || pose[0] === null || pose[0][0] === null) continue;
    const pts = pose.map(q => [q[0] * s, q[1] * s]);
    for (const [a, b] of D.links) bone(ctx, pts[a], pts[b], boneColour(i, a, b), 2);
  }
  ctx.fillStyle = '#666';
  ctx.fillText('2D input, pixels (' + D.size[0] + ' x ' + D.size[1] + ')', 6, D.size[1] * s - 6);
}
function draw() {
  draw3d(); draw2d();
  slider.value = frame;
  document.getElementById('label').textContent = 'frame ' + frame + ' / ' + (T - 1);
  document.body.dataset.status = 'drawn frame ' + frame;
}
function tick(now) {
  if (!playing) return;
  if (last === null || now - last >= 1000 / D.fps) {
    last = now; frame = (frame + 1) % Math.max(T, 1); draw();
  }
  requestAnimationFrame(tick);
}
function setPlaying(on) {
  playing = on; last = null;
  document.getElementById('play').textContent = on ? 'pause' : 'play';
  if (on) requestAnimationFrame(tick);
}
document.getElementById('play').onclick = () => setPlaying(!playing);
slider.oninput = () => { frame = parseInt(slider.value, 10) || 0; draw(); };
document.addEventListener('keydown', e => { if (e.code === 'Space') { e.preventDefault(); setPlaying(!playing); } });
let drag = null;
v3.onmousedown = e => { drag = [e.clientX, e.clientY]; };
window.onmouseup = () => { drag = null; };
window.onmousemove = e => {
  if (!drag) return;
  yaw += (e.clientX - drag[0]) * 0.01;
  pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - drag[1]) * 0.01));
  drag = [e.clientX, e.clientY]; draw();
};
v3.addEventListener('wheel', e => { e.preventDefault(); zoom *= Math.exp(-e.deltaY * 0.001); draw(); },
                    {passive: false});
const hash = new URLSearchParams(location.hash.slice(1));
frame = Math.min(Math.max(parseInt(hash.get('frame') || '0', 10) || 0, 0), Math.max(T - 1, 0));
if (hash.get('yaw') !== null) yaw = parseFloat(hash.get('yaw'));
draw();
if (hash.get('play') === '1') setPlaying(true);
</script></body></html>
'''
