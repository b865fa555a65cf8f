// State diagrams generated from the declared session models: laid out by dagre, drawn as SVG (for the
// /ui page and docs/) and written as Mermaid text. The model in src/shared is the only source.
import { Graph, layout } from '@dagrejs/dagre';
import type { SessionModel } from '../shared/session-model';

const FONT = 13;
const CHAR_W = 7.4; // average glyph width of the sans-serif font at FONT px
const NODE_H = 34;
const PAD = 20;

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** How an edge's trigger reads on the diagram: `timer:x` → `timer: x`, `kitchen:baked` → `kitchen: baked`. */
export const triggerLabel = (on: string) => on.replace(':', ': ');

interface Point {
  x: number;
  y: number;
}
interface Box extends Point {
  width: number;
  height: number;
}

/** Identifies an edge in the SVG, so the page can mark the path taken. */
export const edgeId = (t: { from: string; to: string; on: string }) => `${t.from}|${t.to}|${t.on}`;

export function modelToSvg(model: SessionModel<string>): string {
  const { decl } = model;
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 56, edgesep: 16, marginx: PAD, marginy: PAD });
  const START = '__start__';
  g.setNode(START, { width: 14, height: 14 });
  for (const state of decl.states) {
    g.setNode(state, { width: state.length * CHAR_W + 28, height: NODE_H });
  }
  g.setEdge(START, decl.initial, { width: 0, height: 0 }, 'start');
  for (const t of decl.transitions) {
    const label = triggerLabel(t.on);
    g.setEdge(
      t.from,
      t.to,
      { width: label.length * (CHAR_W - 1) + 8, height: FONT + 4, labelpos: 'c' },
      edgeId(t),
    );
  }
  layout(g);

  const { width = 0, height = 0 } = g.graph() as { width?: number; height?: number };
  const box = (name: string) => g.node(name) as Box;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="state-diagram" data-kind="${escapeXml(decl.kind)}" ` +
      `viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" width="${Math.ceil(width)}" height="${Math.ceil(height)}" ` +
      `font-family="system-ui, sans-serif" font-size="${FONT}">`,
    `<title>${escapeXml(decl.kind)} session states</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse">' +
      '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
  );
  for (const e of g.edges()) {
    const edge = g.edge(e) as { points: Point[]; x?: number; y?: number; width: number };
    const d = edge.points
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
      .join(' ');
    if (e.name === 'start') {
      parts.push(
        `<path class="edge start" d="${d}" fill="none" stroke="#555" stroke-width="1.4" marker-end="url(#arrow)"/>`,
      );
      continue;
    }
    const t = decl.transitions.find((x) => edgeId(x) === e.name)!;
    parts.push(
      `<g class="edge" data-edge="${escapeXml(e.name!)}" data-from="${escapeXml(t.from)}" data-to="${escapeXml(t.to)}" data-on="${escapeXml(t.on)}">`,
      `<path d="${d}" fill="none" stroke="#555" stroke-width="1.4" marker-end="url(#arrow)"/>`,
      `<text x="${edge.x?.toFixed(1)}" y="${((edge.y ?? 0) + 4).toFixed(1)}" text-anchor="middle" fill="#333" ` +
        `paint-order="stroke" stroke="#fff" stroke-width="4">${escapeXml(triggerLabel(t.on))}</text>`,
      '</g>',
    );
  }
  const start = box(START);
  parts.push(`<circle class="start" cx="${start.x}" cy="${start.y}" r="7" fill="#333"/>`);
  for (const state of decl.states) {
    const n = box(state);
    const final = decl.final.includes(state);
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    parts.push(
      `<g class="state${final ? ' final' : ''}${state === decl.initial ? ' initial' : ''}" data-state="${escapeXml(state)}">`,
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width.toFixed(1)}" height="${n.height}" rx="10" ` +
        `fill="#f4f6fb" stroke="#334" stroke-width="${final ? 2.6 : 1.4}"/>`,
      `<text x="${n.x.toFixed(1)}" y="${(n.y + 4.5).toFixed(1)}" text-anchor="middle" fill="#111">${escapeXml(state)}</text>`,
      '</g>',
    );
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The same model as a Mermaid `stateDiagram-v2` (renders on GitHub and in most Markdown viewers). */
export function modelToMermaid(model: SessionModel<string>): string {
  const { decl } = model;
  const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['stateDiagram-v2'];
  for (const s of decl.states) lines.push(`  state "${s}" as ${id(s)}`);
  lines.push(`  [*] --> ${id(decl.initial)}`);
  for (const t of decl.transitions)
    lines.push(`  ${id(t.from)} --> ${id(t.to)}: ${triggerLabel(t.on).replace(/:/g, '')}`);
  for (const f of decl.final) lines.push(`  ${id(f)} --> [*]`);
  return lines.join('\n') + '\n';
}
