/** The drawing of the best architecture: the server's laid-out graph (src/report/arch.ts) as SVG. */
import type { ReportExperiment } from '../data.js';
import { byId, el, svgEl } from './dom.js';

export function renderArch(e: ReportExperiment): void {
  const box = byId('arch');
  box.textContent = '';
  const a = e.arch;
  byId('arch-title').textContent = a ? 'Best architecture: ' + a.title + (e.best ? ' (trial #' + e.best.number + ')' : '') : 'Best architecture';
  if (!a) {
    box.appendChild(el('p', e.best ? 'no drawing for this space' : 'no complete trial yet', { class: 'empty' }));
    return;
  }
  const svg = svgEl('svg', { width: Math.ceil(a.width), height: Math.ceil(a.height), viewBox: '0 0 ' + Math.ceil(a.width) + ' ' + Math.ceil(a.height), class: 'arch-svg' });
  const defs = svgEl('defs', {});
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.appendChild(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#444' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  a.edges.forEach((ed) => {
    if (ed.points.length < 2) return;
    svg.appendChild(svgEl('polyline', { points: ed.points.map((p) => p.x + ',' + p.y).join(' '), fill: 'none', stroke: '#444', 'stroke-width': 1.3, 'marker-end': 'url(#arrow)' }));
    if (ed.label && ed.labelPos) {
      const w = ed.label.length * 6.6 + 6;
      svg.appendChild(svgEl('rect', { x: ed.labelPos.x - w / 2, y: ed.labelPos.y - 8, width: w, height: 16, fill: '#fff', opacity: 0.85 }));
      svg.appendChild(svgEl('text', { x: ed.labelPos.x, y: ed.labelPos.y + 4, 'text-anchor': 'middle', 'font-size': 11, fill: '#8b1a1a', class: 'edge-label' }, ed.label));
    }
  });
  a.nodes.forEach((n) => {
    const fill = n.kind === 'input' || n.kind === 'output' ? '#fde2b3' : n.kind === 'merge' ? '#d9ead3' : '#dbe8f6';
    svg.appendChild(svgEl('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 5, fill, stroke: '#335' }));
    svg.appendChild(svgEl('text', { x: n.x + n.width / 2, y: n.y + n.height / 2 + 4, 'text-anchor': 'middle', 'font-size': 12, class: 'node-label' }, n.label));
  });
  box.appendChild(svg);
}
