// Live training curves (prettynn.widgets.training_curves.TrainingCurves).
// One ES module, no imports: Python sends what train measured after every epoch; this file draws it with
// SVG and handles the controls, live in JupyterLab (the curves grow) and from saved state on a static page.
// Traits: epochs (K, planned), train_loss / val_loss (k losses, null where not finite), train_accuracy /
// val_accuracy (k fractions), seconds (wall time so far), title.
// prettynn.widgets.esm puts common.js (the helpers h, s, picture, labelledSlider, ...) before this file.

const COLOR = {
  ...INK,
  train: "#0072B2",     // Okabe-Ito blue: training (solid line, circles)
  val: "#D55E00",       // Okabe-Ito vermillion: validation (dashed line, squares)
  valText: "#A63F00",   // darker vermillion for text (contrast >= 4.5 on white)
  grid: "#E3E3E3",
  axis: "#444444",
  pick: "#888888",      // the epoch whose values are printed
};
const CURVES = [
  { key: "train", name: "training", color: COLOR.train, text: COLOR.train, dash: "none", marker: "circle" },
  { key: "val", name: "validation", color: COLOR.val, text: COLOR.valText, dash: "6 4", marker: "square" },
];
const SERIES = ["train_loss", "val_loss", "train_accuracy", "val_accuracy"];
const TRAITS = ["epochs", ...SERIES, "seconds", "title"];
const W = 700, PANEL_W = 330, GAP = 40;
const PLOT = { left: 58, right: 10, top: 56, height: 180 };  // inside a panel; top leaves room for the legend
const H = PLOT.top + PLOT.height + 66;
const ZOOM_TOP = 0.9;          // the zoomed accuracy axis starts here, or lower to show the last values
const MIN_LOSS_DECADES = 1;    // the loss axis spans at least this many powers of ten
const MIN_MARKER_SPACING = 7;  // px between epochs below which only the picked epoch gets markers

const CSS = baseCss(".pnn-tc", COLOR.train) + `
.pnn-tc .pnn-title { font-weight: 600; font-size: 15px; margin: 0 0 6px; }
.pnn-tc .pnn-progress { display: grid; grid-template-columns: auto 1fr auto; align-items: center; gap: 10px; }
.pnn-tc progress { width: 100%; height: 12px; accent-color: ${COLOR.train}; }
.pnn-tc .pnn-status, .pnn-tc .pnn-time { font-variant-numeric: tabular-nums; white-space: nowrap; }
.pnn-tc .pnn-time { color: ${COLOR.muted}; }
.pnn-tc .pnn-controls { display: flex; flex-wrap: wrap; gap: 6px 24px; margin-top: 8px; align-items: center; }
.pnn-tc .pnn-row:not(.pnn-check) { grid-template-columns: auto minmax(100px, 1fr) 3em; flex: 1 1 280px; }
.pnn-tc svg { margin-top: 4px; }
`;

// ---- numbers and scales ----------------------------------------------------------------------------

function fmtLoss(v) {
  return Number.isFinite(v) ? v.toPrecision(3) : "diverged";
}

function fmtPercent(v) {
  return `${(100 * v).toFixed(1)} %`;
}

function fmtSeconds(t) {
  return `${t < 10 ? t.toFixed(1) : t.toFixed(0)} s elapsed`;
}

/** The smallest of 1, 2, 5, 10, 20, 50, ... times `unit` that cuts `span` into at most `parts` steps. */
function niceStep(span, parts, unit = 1) {
  for (let power = unit; ; power *= 10) {
    for (const m of [1, 2, 5]) if (span / (m * power) <= parts) return m * power;
  }
}

/** The x axis, epochs 1 to K: position of an epoch, its inverse, and the ticks (1 and multiples of a step). */
function epochScale(K, x0, width) {
  const lo = K > 1 ? 1 : 0.5, hi = K > 1 ? K : 1.5;
  const step = niceStep(hi - lo, 7);
  const ticks = [1];
  for (let e = step; e <= K; e += step) if (e - 1 >= step / 2) ticks.push(e);
  return {
    x: (e) => x0 + ((e - lo) / (hi - lo)) * width,
    epoch: (x) => Math.round(lo + ((x - x0) / width) * (hi - lo)),
    ticks,
  };
}

/** A log-scale y axis over the positive finite `values`, spanning at least MIN_LOSS_DECADES, ticked 1-2-5. */
function logScale(values, y0, height) {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  let lo = finite.length ? Math.log10(Math.min(...finite)) : -1;
  let hi = finite.length ? Math.log10(Math.max(...finite)) : 0.5;
  const widen = Math.max(0, MIN_LOSS_DECADES - (hi - lo)) / 2 + 0.04 * (hi - lo);
  lo -= widen; hi += widen;
  const candidates = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) for (const m of [1, 2, 5]) candidates.push(m * 10 ** d);
  const inside = candidates.filter((v) => Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9);
  const isPowerOfTen = (v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
  const ticks = inside.length > 7 ? inside.filter(isPowerOfTen) : inside;
  return {
    y: (v) => y0 + height * (1 - (Math.log10(v) - lo) / (hi - lo)),
    ticks: ticks.map((v) => ({ value: v, label: String(Number(v.toPrecision(1))) })),
  };
}

/** The accuracy axis: 0 to 100 %, or zoomed to its top (from ZOOM_TOP, lower if the last values are lower). */
function accuracyScale(lastValues, zoomed, y0, height) {
  const lowest = Math.min(...lastValues.filter(Number.isFinite));
  const lo = zoomed ? Math.min(ZOOM_TOP, Number.isFinite(lowest) ? Math.floor(10 * lowest) / 10 : ZOOM_TOP) : 0;
  const step = niceStep(1 - lo, 5, 0.01);
  const ticks = [];
  for (let i = 0; lo + i * step <= 1 + 1e-9; i++) ticks.push(lo + i * step);
  return {
    y: (v) => y0 + height * (1 - (v - lo) / (1 - lo)),
    ticks: ticks.map((v) => ({ value: v, label: (100 * v).toFixed(0) })),
  };
}

// ---- the view ----------------------------------------------------------------------------------------

function render({ model, el }) {
  const id = uniqueId("pnn-tc");
  el.classList.add("prettynn-widget");
  el.dataset.widget = "training-curves";

  const title = h("p", { class: "pnn-title" });
  const status = h("span", { class: "pnn-status" });
  const bar = h("progress", { max: "1", value: "0", "aria-label": "epochs done" });
  const time = h("span", { class: "pnn-time" });
  const zoom = labelledCheckbox(`${id}-zoom`, "zoom the accuracy axis to its top");
  const pick = labelledSlider(`${id}-epoch`, "values at epoch", 1, 1, 1);
  const svg = picture();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const root = h("div", { class: "pnn-tc" }, [
    h("style", {}, [CSS]), title,
    h("div", { class: "pnn-progress" }, [status, bar, time]),
    h("div", { class: "pnn-controls" }, [zoom.row, pick.row]),
    svg,
  ]);
  el.replaceChildren(root);

  let picked = null;  // the epoch picked by the reader; null follows the last epoch

  function measured() {
    const k = Math.min(...SERIES.map((name) => model.get(name).length));
    const series = (name) => model.get(name).slice(0, k);
    return {
      k,
      loss: { train: series("train_loss"), val: series("val_loss") },
      accuracy: { train: series("train_accuracy"), val: series("val_accuracy") },
    };
  }

  function shownEpoch(k) {
    return picked === null ? k : Math.min(picked, k);
  }

  function pickEpoch(epoch, k) {
    const next = epoch >= k ? null : Math.max(1, epoch);
    if (next !== picked) { picked = next; redraw(); }
  }

  function syncControls(K, k, shown) {
    title.textContent = model.get("title");
    title.hidden = !model.get("title");
    status.textContent = `epoch ${k} of ${K}`;
    bar.max = K;
    bar.value = Math.min(k, K);
    bar.setAttribute("aria-valuetext", `epoch ${k} of ${K}`);
    time.textContent = k ? fmtSeconds(model.get("seconds")) : "waiting for the first epoch";
    pick.input.max = String(Math.max(k, 1));
    pick.input.disabled = k === 0;
    pick.input.value = String(Math.max(shown, 1));
    pick.out.textContent = k ? String(shown) : "none";
  }

  function drawLegend() {
    let x = PLOT.left;
    for (const curve of CURVES) {
      s(svg, "line", { x1: x, x2: x + 30, y1: 12, y2: 12, stroke: curve.color, "stroke-width": 2,
        "stroke-dasharray": curve.dash });
      marker(svg, curve, x + 15, 12, false);
      s(svg, "text", { x: x + 38, y: 16.5, "font-size": 13, fill: COLOR.text }, curve.name);
      x += 130;
    }
    s(svg, "text", { x: W - 2, y: 16.5, "text-anchor": "end", "font-size": 12, fill: COLOR.muted },
      "point at a plot or use the slider to read an epoch");
  }

  function marker(g, curve, x, y, big) {
    const r = big ? 4.5 : 3;
    const attrs = { fill: big ? curve.color : "#FFFFFF", stroke: curve.color, "stroke-width": 1.6 };
    if (curve.marker === "circle") s(g, "circle", { cx: x, cy: y, r, ...attrs });
    else s(g, "rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, ...attrs });
  }

  /** The frame of a plot, its grid, ticks and axis labels. */
  function drawAxes(g, x0, frame, panel, xs) {
    const { left, width, bottom } = frame;
    s(g, "text", { x: left, y: PLOT.top - 10, "font-size": 14, "font-weight": 600, fill: COLOR.text }, panel.title);
    s(g, "text", { transform: `translate(${x0 + 13},${PLOT.top + PLOT.height / 2}) rotate(-90)`,
      "text-anchor": "middle", "font-size": 13, fill: COLOR.muted }, panel.yLabel);
    for (const tick of panel.scale.ticks) {
      const y = panel.scale.y(tick.value);
      s(g, "line", { x1: left, x2: left + width, y1: y, y2: y, stroke: COLOR.grid });
      s(g, "text", { x: left - 6, y: y + 4.5, "text-anchor": "end", "font-size": 12, fill: COLOR.muted }, tick.label);
    }
    for (const e of xs.ticks) {
      s(g, "line", { x1: xs.x(e), x2: xs.x(e), y1: bottom, y2: bottom + 4, stroke: COLOR.axis });
      s(g, "text", { x: xs.x(e), y: bottom + 17, "text-anchor": "middle", "font-size": 12, fill: COLOR.muted },
        String(e));
    }
    s(g, "text", { x: left + width / 2, y: bottom + 33, "text-anchor": "middle", "font-size": 13, fill: COLOR.muted },
      "epoch");
    s(g, "rect", { x: left, y: PLOT.top, width, height: PLOT.height, fill: "none", stroke: COLOR.axis });
  }

  /** A curve's path, broken where a value is null (named by data-series), and its markers. */
  function drawCurve(g, curve, values, xs, y, panelKey, markers, shown) {
    let d = "", pen = "M";
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) { pen = "M"; return; }
      d += `${pen}${xs.x(i + 1).toFixed(1)},${y(v).toFixed(1)}`;
      pen = "L";
    });
    s(g, "path", { d, fill: "none", stroke: curve.color, "stroke-width": 2, "stroke-dasharray": curve.dash,
      "stroke-linejoin": "round", "data-series": `${panelKey}-${curve.key}` });
    values.forEach((v, i) => {
      const isShown = i + 1 === shown;
      if (Number.isFinite(v) && (markers || isShown)) marker(g, curve, xs.x(i + 1), y(v), isShown);
    });
  }

  /** The values of epoch `shown` under a plot, e.g. "epoch 7: training 0.123, validation 0.145". */
  function drawReadout(g, x, y, panel, shown) {
    const text = s(g, "text", { x, y, "font-size": 13, fill: COLOR.text, "data-readout": panel.key });
    s(text, "tspan", {}, `epoch ${shown}: `);
    CURVES.forEach((curve, i) => {
      if (i) s(text, "tspan", {}, ", ");
      s(text, "tspan", { fill: curve.text }, `${curve.name} `);
      s(text, "tspan", { "font-weight": 600 }, panel.format(panel.values[curve.key][shown - 1]));
    });
  }

  /** One plot at `x0`: axes; once an epoch is done, the curves (cut at the bottom edge, where a zoomed
   * axis ends), a line at epoch `shown` and its values. */
  function drawPanel(x0, panel, K, k, shown) {
    const g = s(svg, "g", { "data-panel": panel.key });
    const frame = { left: x0 + PLOT.left, width: PANEL_W - PLOT.left - PLOT.right, bottom: PLOT.top + PLOT.height };
    const xs = epochScale(K, frame.left, frame.width);
    drawAxes(g, x0, frame, panel, xs);
    if (k === 0) return;
    s(g, "line", { x1: xs.x(shown), x2: xs.x(shown), y1: PLOT.top, y2: frame.bottom, stroke: COLOR.pick,
      "stroke-dasharray": "2 3" });
    const clip = s(s(svg, "defs"), "clipPath", { id: `${id}-clip-${panel.key}` });
    s(clip, "rect", { x: frame.left - 6, y: PLOT.top - 6, width: frame.width + 12, height: PLOT.height + 6 });
    const clipped = s(g, "g", { "clip-path": `url(#${id}-clip-${panel.key})` });
    const markers = K <= 1 || frame.width / (K - 1) >= MIN_MARKER_SPACING;
    for (const curve of CURVES) {
      drawCurve(clipped, curve, panel.values[curve.key], xs, panel.scale.y, panel.key, markers, shown);
    }
    drawReadout(g, x0 + 4, frame.bottom + 55, panel, shown);
  }

  function redraw() {
    const start = performance.now();
    const K = model.get("epochs"), { k, loss, accuracy } = measured();
    const shown = shownEpoch(k);
    syncControls(K, k, shown);
    svg.replaceChildren();
    drawLegend();
    const last = k ? [accuracy.train[k - 1], accuracy.val[k - 1]] : [];
    const panels = [
      { key: "loss", title: "Loss (log scale)", yLabel: "cross-entropy (nats)", values: loss, format: fmtLoss,
        scale: logScale([...loss.train, ...loss.val], PLOT.top, PLOT.height) },
      { key: "accuracy", title: "Accuracy", yLabel: "accuracy (%)", values: accuracy, format: fmtPercent,
        scale: accuracyScale(last, zoom.input.checked, PLOT.top, PLOT.height) },
    ];
    panels.forEach((panel, i) => drawPanel(i * (PANEL_W + GAP), panel, K, k, shown));
    svg.dataset.epoch = String(shown);
    svg.setAttribute("aria-label", k === 0 ? `Training curves: no epoch of ${K} done yet.`
      : `Training curves, epoch ${k} of ${K}. At epoch ${shown}: loss ${fmtLoss(loss.train[shown - 1])} training, ` +
        `${fmtLoss(loss.val[shown - 1])} validation; accuracy ${fmtPercent(accuracy.train[shown - 1])} training, ` +
        `${fmtPercent(accuracy.val[shown - 1])} validation.`);
    el.dataset.redrawMs = String(performance.now() - start);
  }

  zoom.input.addEventListener("change", redraw);
  pick.input.addEventListener("input", () => pickEpoch(Number(pick.input.value), measured().k));
  svg.addEventListener("pointermove", (event) => {
    const { k } = measured();
    if (k === 0) return;
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * W;
    const panelX = x > PANEL_W + GAP / 2 ? PANEL_W + GAP : 0;
    const xs = epochScale(model.get("epochs"), panelX + PLOT.left, PANEL_W - PLOT.left - PLOT.right);
    pickEpoch(Math.min(Math.max(xs.epoch(x), 1), k), k);
  });

  return redrawOnChange(model, el, TRAITS, redraw);
}

export default { render };
