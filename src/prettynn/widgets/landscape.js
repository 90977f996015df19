// Batch norm and the loss landscape (prettynn.widgets.landscape.LandscapeExplorer).
// One ES module, no imports: every run was computed in Python and arrives as traits; this file
// only draws the selected run with SVG and handles the controls, live and on a static page.
// Traits: runs (list of dicts: depth, learning_rate, batch_norm, steps, loss / grad_change / beta
// as [min, max] per probed step, final_loss, slice_loss (G x G, null where not finite), contours),
// line_loss_kept_norms (G: the loss along direction 1 with every moved weight row rescaled to its
// trained norm), span, probe_sizes, levels (contour levels), depth, learning_rate, batch_norm (the run shown).
// prettynn.widgets.esm puts common.js (the helpers h, s, baseCss, outputSize, ...) before this file.

const COLOR = {
  ...INK,
  bn: "#0072B2",        // Okabe-Ito blue: with batch norm
  plain: "#D55E00",     // Okabe-Ito vermillion: without
  other: "#7A7A7A",     // the other run, for comparison
  grid: "#E6E6E6",
  axis: "#444444",
  missing: "#3A3A3A",
};
// viridis, 9 stops (perceptually uniform, colour-blind safe)
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];
const W = 720, H = 612;
const PANEL = { top: 34, height: 150, width: 172, gap: 58, left: 52 };
const SLICE = { left: 52, top: 268, size: 236 };

const CSS = baseCss(".pnn-ls", COLOR.bn) + `
.pnn-ls .pnn-controls { display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: center; }
.pnn-ls label { display: inline-flex; align-items: center; gap: 6px; }
.pnn-ls select { padding: 2px 4px; }
.pnn-ls input[type=checkbox] { margin: 0; }
.pnn-ls svg { margin-top: 6px; }
.pnn-ls .pnn-hint { margin: 4px 0 0; }
`;

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function viridis(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hexToRgb(VIRIDIS[i]), b = hexToRgb(VIRIDIS[i + 1]), f = x - i;
  return `rgb(${a.map((v, k) => Math.round(v + f * (b[k] - v))).join(",")})`;
}

function fmt(v) {
  if (v === null || !Number.isFinite(v)) return "diverged";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.1) return v.toFixed(2);
  return v.toPrecision(2);
}

function tickLabel(power) {
  return power >= 0 ? String(10 ** power) : (10 ** power).toFixed(-power);
}

// Mean over the probed steps of f([min, max]); Infinity if a value is missing (a diverged run).
function meanOf(pairs, f) {
  if (!pairs.length) return Infinity;
  let sum = 0;
  for (const p of pairs) {
    if (p[0] === null || p[1] === null) return Infinity;
    sum += f(p);
  }
  return sum / pairs.length;
}

// The largest loss of a list (null, a diverged point, counts as Infinity).
function largest(values) {
  return Math.max(...values.map((v) => (v === null ? Infinity : v)));
}

function summary(run) {
  return {
    loss_range: meanOf(run.loss, (p) => p[1] - p[0]),
    grad_change: meanOf(run.grad_change, (p) => p[1]),
    beta: meanOf(run.beta, (p) => p[1]),
  };
}

// The positive values of a metric, for a log axis: the loss band's lower edge is the range, not the loss.
function series(run, key) {
  if (key === "loss") return run.loss.map((p) => [p[0], p[1]]);
  return run[key].map((p) => [p[0], p[1]]);
}

function logExtent(runs, key) {
  let lo = Infinity, hi = 0;
  for (const run of runs) {
    for (const [a, b] of series(run, key)) {
      if (a !== null && a > 0) lo = Math.min(lo, a);
      if (b !== null && b > 0) hi = Math.max(hi, b);
    }
  }
  if (!(hi > 0)) return [-1, 0];
  lo = Math.max(lo, hi / 1e4);
  return [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
}

function drawPanel(svg, index, title, key, shown, other, maxStep) {
  const x0 = PANEL.left + index * (PANEL.width + PANEL.gap), y0 = PANEL.top;
  const [p0, p1] = logExtent([shown, other], key);
  const sx = (step) => x0 + (step / maxStep) * PANEL.width;
  const sy = (v) => {
    const l = Math.log10(Math.max(v, 10 ** p0));
    return y0 + PANEL.height - ((Math.min(l, p1) - p0) / (p1 - p0)) * PANEL.height;
  };
  s(svg, "text", { x: x0 + PANEL.width / 2, y: y0 - 12, "text-anchor": "middle", "font-size": 13,
    "font-weight": 600 }, title);
  for (let p = p0; p <= p1; p++) {
    const y = sy(10 ** p);
    s(svg, "line", { x1: x0, x2: x0 + PANEL.width, y1: y, y2: y, stroke: COLOR.grid });
    s(svg, "text", { x: x0 - 5, y: y + 4, "text-anchor": "end", "font-size": 11, fill: COLOR.muted }, tickLabel(p));
  }
  const stepTicks = [0, Math.round(maxStep / 2 / 50) * 50, maxStep];
  for (const step of stepTicks) {
    s(svg, "text", { x: sx(step), y: y0 + PANEL.height + 15, "text-anchor": "middle", "font-size": 11,
      fill: COLOR.muted }, String(step));
  }
  s(svg, "text", { x: x0 + PANEL.width / 2, y: y0 + PANEL.height + 30, "text-anchor": "middle", "font-size": 12 },
    "training step");
  s(svg, "rect", { x: x0, y: y0, width: PANEL.width, height: PANEL.height, fill: "none", stroke: COLOR.axis });

  const valid = (run) => series(run, key).map((p, i) => [run.steps[i], p]).filter(([, p]) => p[0] !== null && p[1] !== null);
  const otherPoints = valid(other);
  if (otherPoints.length) {
    s(svg, "path", { d: "M" + otherPoints.map(([step, p]) => `${sx(step).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("L"),
      fill: "none", stroke: COLOR.other, "stroke-width": 1.2, "stroke-dasharray": "4 3" });
  }
  const points = valid(shown);
  const color = shown.batch_norm ? COLOR.bn : COLOR.plain;
  if (points.length) {
    const upper = points.map(([step, p]) => `${sx(step).toFixed(1)},${sy(p[1]).toFixed(1)}`);
    const lower = points.slice().reverse().map(([step, p]) => `${sx(step).toFixed(1)},${sy(p[0]).toFixed(1)}`);
    s(svg, "path", { d: "M" + upper.concat(lower).join("L") + "Z", fill: color, "fill-opacity": 0.25, stroke: "none" });
    s(svg, "path", { d: "M" + upper.join("L"), fill: "none", stroke: color, "stroke-width": 1.8 });
  }
}

function drawSlice(svg, run, span, levels) {
  const { left, top, size } = SLICE;
  const grid = run.slice_loss, n = grid.length, cell = size / n;
  const l0 = Math.log10(levels[0]), l1 = Math.log10(levels[levels.length - 1]);
  const title = `(d) loss around the final weights`;
  s(svg, "text", { x: left, y: top - 12, "font-size": 13, "font-weight": 600 }, title);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = grid[i][j];
      s(svg, "rect", { x: (left + j * cell).toFixed(2), y: (top + (n - 1 - i) * cell).toFixed(2),
        width: (cell + 0.4).toFixed(2), height: (cell + 0.4).toFixed(2),
        fill: v === null ? COLOR.missing : viridis((Math.log10(v) - l0) / (l1 - l0)) });
    }
  }
  const px = (a) => left + ((a + span) / (2 * span)) * size;
  const py = (b) => top + size - ((b + span) / (2 * span)) * size;
  for (const contour of run.contours) {
    for (const line of contour.lines) {
      s(svg, "path", { d: "M" + line.map(([a, b]) => `${px(a).toFixed(1)},${py(b).toFixed(1)}`).join("L"),
        fill: "none", stroke: "#fff", "stroke-opacity": 0.85, "stroke-width": 1 });
    }
  }
  s(svg, "path", { d: `M${px(0) - 6},${py(0)}h12M${px(0)},${py(0) - 6}v12`, stroke: "#fff", "stroke-width": 2 });
  s(svg, "rect", { x: left, y: top, width: size, height: size, fill: "none", stroke: COLOR.axis });
  for (const t of [-span, -span / 2, 0, span / 2, span]) {
    s(svg, "text", { x: px(t), y: top + size + 15, "text-anchor": "middle", "font-size": 11, fill: COLOR.muted }, String(t));
    s(svg, "text", { x: left - 5, y: py(t) + 4, "text-anchor": "end", "font-size": 11, fill: COLOR.muted }, String(t));
  }
  s(svg, "text", { x: left + size / 2, y: top + size + 30, "text-anchor": "middle", "font-size": 12 }, "along direction 1");
  s(svg, "text", { x: left - 40, y: top + size / 2, "text-anchor": "middle", "font-size": 12,
    transform: `rotate(-90 ${left - 40} ${top + size / 2})` }, "along direction 2");
  // colour bar with the contour levels
  const bx = left + size + 14, bw = 12;
  const steps = 40;
  for (let k = 0; k < steps; k++) {
    s(svg, "rect", { x: bx, y: (top + size - ((k + 1) / steps) * size).toFixed(2), width: bw,
      height: (size / steps + 0.4).toFixed(2), fill: viridis((k + 0.5) / steps) });
  }
  s(svg, "rect", { x: bx, y: top, width: bw, height: size, fill: "none", stroke: COLOR.axis });
  levels.forEach((level) => {
    const y = top + size - ((Math.log10(level) - l0) / (l1 - l0)) * size;
    s(svg, "line", { x1: bx, x2: bx + bw + 3, y1: y, y2: y, stroke: COLOR.axis });
    s(svg, "text", { x: bx + bw + 5, y: y + 4, "font-size": 11, fill: COLOR.muted }, fmt(level));
  });
  s(svg, "text", { x: bx, y: top - 12 + 0, "font-size": 11, fill: COLOR.muted, "text-anchor": "start",
    transform: `translate(0 ${size + 42})` }, "loss (log colour)");
  // The caveat: a move along these directions also lengthens every weight row; batch norm divides that out.
  const caveat = [
    "Caveat: each move along a direction also lengthens every weight row. A plain ReLU network passes that on",
    "to its outputs, layer after layer; batch norm divides it out of every hidden layer (scale invariance). Much of",
    "the contrast between the two slices comes from that: compare the last rows of the table (row norms kept).",
  ];
  caveat.forEach((line, k) => s(svg, "text", { x: left - 40, y: top + size + 58 + k * 16, "font-size": 12,
    fill: COLOR.text, class: "pnn-caveat" }, line));
}

function drawSummary(svg, shown, other) {
  const x = SLICE.left + SLICE.size + 92, y = SLICE.top;
  const plain = shown.batch_norm ? other : shown, bn = shown.batch_norm ? shown : other;
  const sp = summary(plain), sb = summary(bn);
  s(svg, "text", { x, y: y - 12, "font-size": 13, "font-weight": 600 },
    `Means over training (depth ${shown.depth}, lr ${shown.learning_rate})`);
  const rows = [
    ["", "plain", "with BN", "ratio"],
    ["loss range", fmt(sp.loss_range), fmt(sb.loss_range), fmt(sp.loss_range / sb.loss_range)],
    ["gradient change", fmt(sp.grad_change), fmt(sb.grad_change), fmt(sp.grad_change / sb.grad_change)],
    ["β-smoothness", fmt(sp.beta), fmt(sb.beta), fmt(sp.beta / sb.beta)],
    ["final training loss", fmt(plain.final_loss), fmt(bn.final_loss), ""],
    ["largest loss on (d)", fmt(largest(plain.slice_loss.flat())), fmt(largest(bn.slice_loss.flat())), ""],
    ["… along direction 1", fmt(largest(plain.slice_loss[plain.slice_loss.length >> 1])),
      fmt(largest(bn.slice_loss[bn.slice_loss.length >> 1])), ""],
    ["… row norms kept", fmt(largest(plain.line_loss_kept_norms)), fmt(largest(bn.line_loss_kept_norms)), ""],
  ];
  const cols = [0, 185, 260, 320];
  rows.forEach((row, r) => {
    row.forEach((text, c) => {
      const attrs = { x: x + cols[c], y: y + 10 + r * 22, "font-size": 12.5,
        "text-anchor": c ? "end" : "start", "font-variant-numeric": "tabular-nums" };
      if (r === 0) attrs["font-weight"] = 600;
      if (r === 0 && c === 1) attrs.fill = COLOR.plain;
      if (r === 0 && c === 2) attrs.fill = COLOR.bn;
      s(svg, "text", attrs, text);
    });
  });
  const ly = y + 196;
  const color = shown.batch_norm ? COLOR.bn : COLOR.plain;
  s(svg, "rect", { x, y: ly - 9, width: 22, height: 10, fill: color, "fill-opacity": 0.25, stroke: color });
  s(svg, "text", { x: x + 28, y: ly, "font-size": 12 }, `${shown.batch_norm ? "with" : "without"} batch norm: min to max over the probes`);
  s(svg, "line", { x1: x, x2: x + 22, y1: ly + 18, y2: ly + 18, stroke: COLOR.other, "stroke-width": 1.2, "stroke-dasharray": "4 3" });
  s(svg, "text", { x: x + 28, y: ly + 22, "font-size": 12 }, `${shown.batch_norm ? "without" : "with"} batch norm: maximum, for comparison`);
  s(svg, "text", { x, y: ly + 50, "font-size": 12, fill: COLOR.muted },
    "(a) loss at w − s·g;  (b) ‖∇L(w − s·g) − g‖;  (c) (b) / ‖s·g‖;");
  s(svg, "text", { x, y: ly + 66, "font-size": 12, fill: COLOR.muted },
    "s from 0.05 to 0.4, g the minibatch gradient at the step.");
}

function render({ model, el }) {
  el.classList.add("prettynn-widget");
  const bnBox = h("input", { type: "checkbox" });
  const lrSelect = h("select"), depthSelect = h("select");
  const svg = picture();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  el.append(h("div", { class: "pnn-ls" }, [
    h("style", {}, [CSS]),
    h("div", { class: "pnn-controls" }, [
      h("label", {}, [bnBox, "batch norm"]), h("label", {}, ["learning rate ", lrSelect]), h("label", {}, ["depth ", depthSelect]),
    ]),
    svg,
    h("p", { class: "pnn-hint" },
      ["Each band spans the probe step sizes at one training step; the y axes are logarithmic and shared by the two runs."]),
  ]));

  const runs = () => model.get("runs");
  const unique = (key) => [...new Set(runs().map((r) => r[key]))].sort((a, b) => a - b);
  for (const lr of unique("learning_rate")) lrSelect.append(h("option", { value: String(lr) }, [String(lr)]));
  for (const d of unique("depth")) depthSelect.append(h("option", { value: String(d) }, [`${d} hidden layers`]));

  function find(depth, lr, bn) {
    return runs().find((r) => r.depth === depth && r.learning_rate === lr && r.batch_norm === bn);
  }

  function redraw() {
    const start = performance.now();
    const depth = model.get("depth"), lr = model.get("learning_rate"), bn = model.get("batch_norm");
    bnBox.checked = bn;
    lrSelect.value = String(lr);
    depthSelect.value = String(depth);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const shown = find(depth, lr, bn), other = find(depth, lr, !bn);
    if (!shown || !other) {
      s(svg, "text", { x: 20, y: 40 }, "no run for this setting");
    } else {
      svg.setAttribute("aria-label", `Loss landscape measures, depth ${depth}, learning rate ${lr}, ` +
        `${bn ? "with" : "without"} batch norm`);
      const maxStep = Math.max(...shown.steps, ...other.steps, 1);
      drawPanel(svg, 0, "(a) loss along the gradient", "loss", shown, other, maxStep);
      drawPanel(svg, 1, "(b) gradient change", "grad_change", shown, other, maxStep);
      drawPanel(svg, 2, "(c) β-smoothness", "beta", shown, other, maxStep);
      drawSlice(svg, shown, model.get("span"), model.get("levels"));
      drawSummary(svg, shown, other);
    }
    el.dataset.redrawMs = (performance.now() - start).toFixed(1);
  }

  bnBox.addEventListener("change", () => { model.set("batch_norm", bnBox.checked); model.save_changes(); });
  lrSelect.addEventListener("change", () => { model.set("learning_rate", Number(lrSelect.value)); model.save_changes(); });
  depthSelect.addEventListener("change", () => { model.set("depth", Number(depthSelect.value)); model.save_changes(); });
  return redrawOnChange(model, el, ["depth", "learning_rate", "batch_norm", "runs"], redraw);
}

export default { render };
