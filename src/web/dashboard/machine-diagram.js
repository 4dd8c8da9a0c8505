// Draws a state machine as SVG from its graph (GET /api/machines/:name, generated from the machine
// definition), and highlights the state it is in. The leaves sit on one row in document order, each
// composite state a box around its own (document order keeps them side by side); transitions are arcs,
// forwards above the row and backwards below it, each arc on the lowest level where it and its label
// overlap no other. No layout library, no inline style: the page's strict CSP holds, and the drawing is
// the same for every machine the definitions can express.

const SVG = 'http://www.w3.org/2000/svg';
const LEAF_HEIGHT = 34;
const GAP = 40;
const PAD = 12;
const NEST = 22;
const LEVEL = 24;
const CHAR = 6.2;
const LABEL_MAX = 38;

let diagrams = 0;

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function shortLabel(label) {
  return label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label;
}

/** Draws `graph` into `container` (replacing what it held): the SVG, then a line for the current state and its ways out. */
export function drawMachine(container, graph) {
  diagrams += 1;
  const arrow = `arrow-${diagrams}`;
  const children = new Map();
  for (const state of graph.states) {
    const list = children.get(state.parent) ?? [];
    list.push(state);
    children.set(state.parent, list);
  }
  const nesting = (state) => {
    const inner = children.get(state.id) ?? [];
    return inner.length === 0 ? 0 : 1 + Math.max(...inner.map(nesting));
  };
  const depth = Math.max(0, ...(children.get(null) ?? []).map(nesting));

  // x positions, in document order
  const boxes = new Map();
  let x = 36;
  const place = (state) => {
    const inner = children.get(state.id) ?? [];
    const start = x;
    if (inner.length === 0) {
      const width = Math.max(96, state.key.length * 8 + 24);
      x += width;
      boxes.set(state.id, { state, x: start, width, leaf: true });
      return;
    }
    x += PAD;
    inner.forEach((child, index) => {
      if (index > 0) x += GAP;
      place(child);
    });
    x += PAD;
    boxes.set(state.id, { state, x: start, width: x - start, leaf: false, nesting: nesting(state) });
  };
  (children.get(null) ?? []).forEach((state, index) => {
    if (index > 0) x += GAP;
    place(state);
  });
  const width = x + 36;
  const centre = (id) => {
    const box = boxes.get(id);
    return box.x + box.width / 2;
  };

  // arcs: levels per side, shortest first
  const arcs = graph.transitions.map((transition) => {
    const from = centre(transition.source);
    const to = centre(transition.target);
    const text = shortLabel(transition.label);
    const mid = (from + to) / 2;
    const half = (text.length * CHAR) / 2 + 4;
    const self = transition.source === transition.target;
    return {
      transition,
      from,
      to,
      text,
      mid,
      self,
      above: self || to > from,
      span: Math.abs(to - from),
      interval: [Math.min(from, to, mid - half) - (self ? 14 : 0), Math.max(from, to, mid + half) + (self ? 14 : 0)],
    };
  });
  const levels = { above: [], below: [] };
  for (const arc of [...arcs].sort((a, b) => a.span - b.span)) {
    const side = levels[arc.above ? 'above' : 'below'];
    let level = 0;
    while (side[level]?.some(([start, end]) => start < arc.interval[1] && arc.interval[0] < end)) level += 1;
    side[level] ??= [];
    side[level].push(arc.interval);
    arc.level = level;
  }
  const frame = depth * NEST + 6;
  const aboveHeight = frame + levels.above.length * LEVEL + 26;
  const belowHeight = frame + levels.below.length * LEVEL + 26;
  const top = aboveHeight;
  const bottom = top + LEAF_HEIGHT;
  const height = bottom + belowHeight;

  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    class: 'machine',
    role: 'img',
    'aria-label': `state machine ${graph.id}`,
  });
  const marker = svg('marker', {
    id: arrow,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(svg('path', { d: 'M0 0 10 5 0 10z', class: 'arrowhead' }));
  const defs = svg('defs');
  defs.append(marker);
  root.append(defs);

  // composite states first (behind), outermost first
  for (const box of [...boxes.values()].filter((b) => !b.leaf).sort((a, b) => b.nesting - a.nesting)) {
    const inset = box.nesting * NEST;
    const group = svg('g', { class: 'state composite', 'data-state': box.state.id });
    group.append(
      svg('rect', { x: box.x, y: top - inset, width: box.width, height: LEAF_HEIGHT + 2 * inset, rx: 10 }),
      svg(
        'text',
        { x: box.x + 8, y: top - inset + 14, class: 'composite-label' },
        `${box.state.key}${box.state.invokes.length ? ` · invokes ${box.state.invokes.join(', ')}` : ''}`,
      ),
    );
    root.append(group);
  }
  for (const box of [...boxes.values()].filter((b) => b.leaf)) {
    const group = svg('g', {
      class: `state leaf${box.state.type === 'final' ? ' final' : ''}`,
      'data-state': box.state.id,
    });
    group.append(svg('rect', { x: box.x, y: top, width: box.width, height: LEAF_HEIGHT, rx: 6 }));
    if (box.state.type === 'final') {
      group.append(svg('rect', { x: box.x + 3, y: top + 3, width: box.width - 6, height: LEAF_HEIGHT - 6, rx: 4 }));
    }
    group.append(svg('text', { x: box.x + box.width / 2, y: top + 22, 'text-anchor': 'middle' }, box.state.key));
    if (box.state.invokes.length > 0) group.append(svg('title', {}, `invokes ${box.state.invokes.join(', ')}`));
    root.append(group);
  }
  // where the machine starts: a dot and an arrow into its initial top-level state's first leaf
  const first = (children.get(null) ?? []).find((state) => state.initial);
  if (first) {
    let entry = first;
    while (children.get(entry.id)?.length)
      entry = children.get(entry.id).find((state) => state.initial) ?? children.get(entry.id)[0];
    const box = boxes.get(entry.id);
    root.append(
      svg('circle', { cx: 12, cy: top + LEAF_HEIGHT / 2, r: 5, class: 'start' }),
      svg('path', {
        d: `M17 ${top + LEAF_HEIGHT / 2} H${box.x}`,
        class: 'edge-line',
        'marker-end': `url(#${arrow})`,
      }),
    );
  }

  for (const arc of arcs) {
    const rise = frame + (arc.level + 1) * LEVEL;
    const group = svg('g', {
      class: 'edge',
      'data-source': arc.transition.source,
      'data-target': arc.transition.target,
    });
    let d;
    let labelY;
    if (arc.self) {
      d = `M${arc.from - 12} ${top} C${arc.from - 24} ${top - rise}, ${arc.from + 24} ${top - rise}, ${arc.from + 12} ${top}`;
      labelY = top - rise * 0.75 - 4;
    } else if (arc.above) {
      // a quadratic curve peaks halfway to its control point
      d = `M${arc.from + 8} ${top} Q${arc.mid} ${top - 2 * rise} ${arc.to - 8} ${top}`;
      labelY = top - rise - 4;
    } else {
      d = `M${arc.from - 8} ${bottom} Q${arc.mid} ${bottom + 2 * rise} ${arc.to + 8} ${bottom}`;
      labelY = bottom + rise + 12;
    }
    group.append(
      svg('path', { d, class: 'edge-line', 'marker-end': `url(#${arrow})` }),
      svg('text', { x: arc.mid, y: labelY, 'text-anchor': 'middle', class: 'edge-label' }, arc.text),
      svg('title', {}, `${arc.transition.source} → ${arc.transition.target}: ${arc.transition.label}`),
    );
    root.append(group);
  }

  const caption = document.createElement('p');
  caption.className = 'diagram-current';
  caption.dataset.testid = 'diagram-current';
  const ways = document.createElement('ul');
  ways.className = 'diagram-next';
  ways.dataset.testid = 'diagram-next';
  const scroller = document.createElement('div');
  scroller.className = 'diagram-scroll';
  scroller.append(root);
  container.replaceChildren(scroller, caption, ways);
  container.machineGraph = graph;
}

/** Marks `stateId` (a dotted path such as `socket.registered`) as current, its parents active, and the transitions out of it. */
export function highlightMachine(container, stateId) {
  const graph = container.machineGraph;
  if (!graph) return;
  for (const node of container.querySelectorAll('[data-state]')) {
    const id = node.dataset.state;
    node.classList.toggle('current', id === stateId);
    node.classList.toggle('active', Boolean(stateId?.startsWith(`${id}.`)));
  }
  const out = graph.transitions.filter((transition) => transition.source === stateId);
  for (const node of container.querySelectorAll('.edge')) {
    node.classList.toggle('next', node.dataset.source === stateId);
  }
  const known = graph.states.some((state) => state.id === stateId);
  const caption = container.querySelector('[data-testid="diagram-current"]');
  const text =
    stateId === null
      ? 'No state reported for this connection yet.'
      : known
        ? `Now in ${stateId}.${out.length ? ' From here:' : ''}`
        : `Now in ${stateId} (not a state of this machine's definition).`;
  if (caption.textContent !== text) caption.textContent = text;
  const list = container.querySelector('[data-testid="diagram-next"]');
  list.replaceChildren(
    ...out.map((transition) => {
      const item = document.createElement('li');
      item.textContent = `${transition.label} → ${transition.target}`;
      return item;
    }),
  );
}
