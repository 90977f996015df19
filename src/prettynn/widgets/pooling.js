// Pooling explorer (prettynn.widgets.pooling.PoolingExplorer).
// One ES module, no imports: it computes and draws everything in the browser (SVG), so it
// works live in JupyterLab and from saved widget state on a static page.
// Traits: grid (H rows of W numbers), modes (the modes offered), mode ("max" | "avg" | "backward"),
// kernel_size, stride, padding (0..kernel_size // 2), dilation (max and backward only), ceil_mode,
// count_include_pad. The current window (the step) lives in the browser only; changing the input's
// size writes a new grid of distinct values into the grid trait.
// prettynn.widgets.esm puts common.js (the helpers h, s, baseCss, outputSize, ...) before this file.

const COLOR = {
  ...INK,
  window: "#0072B2",    // Okabe-Ito blue: the current window
  win: "#E69F00",       // Okabe-Ito orange: the window's maximum
  dropped: "#D55E00",   // Okabe-Ito vermillion: a window ceil mode would add but PyTorch drops
  grad: ["#FFFFFF", "#CFE3F2", "#8FBFE0", "#4A93C8", "#1F6FA8"], // gradient 0, 1, 2, 3, 4+
  counted: "#DCEBF6",   // a cell counted in the average's divisor
  pad: "#F2F2F2",
  beyond: "#FFFFFF",
  line: "#B5B5B5",
};
const CELL = 32, GAP = 34, TITLE = 22, CHAR_PX = 7.4;
const MIN_SIDE = 2, MAX_SIDE = 8, MAX_KERNEL = 4, MAX_STRIDE = 4, MAX_DILATION = 3, PLAY_MS = 700;
const MODE_NAMES = { max: "max pooling", avg: "average pooling", backward: "max-pool backward" };

const CSS = baseCss(".pnn-pool", COLOR.window) + `
.pnn-pool .pnn-controls { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; }
.pnn-pool label { display: inline-flex; align-items: center; gap: 4px; }
.pnn-pool input[type=number] { width: 3.2em; font: inherit; }
.pnn-pool button { padding: 2px 10px; border: 1px solid #888; border-radius: 4px; background: #F7F7F7; cursor: pointer; }
.pnn-pool button:disabled { color: #999; cursor: default; }
.pnn-pool input:disabled, .pnn-pool label:has(input:disabled) { color: #999; }
.pnn-pool input[type=checkbox] { margin: 0; }
.pnn-pool .pnn-steps { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 6px; }
.pnn-pool .pnn-steps output { color: ${COLOR.muted}; }
`;

// ---- the computation, as in the chapter -----------------------------------------------------

// Everything the picture needs: geometry, every window's result, the dropped windows, and the
// gradient so far. d is the dilation (1 for average pooling).
function compute(grid, k, s, p, d, ceil, includePad, step) {
  const H = grid.length, W = grid[0].length, extent = d * (k - 1) + 1;
  const outH = outputSize(H, k, s, p, d, ceil), outW = outputSize(W, k, s, p, d, ceil);
  const keptH = outputSize(H, k, s, p, d, ceil, true), keptW = outputSize(W, k, s, p, d, ceil, true);
  // a window of each axis that ceil mode would add but PyTorch drops (it starts in the right padding)
  const dropped = [];
  if (outW > 0 && keptH > outH) dropped.push({ axis: "rows", top: (keptH - 1) * s, left: 0 });
  if (outH > 0 && keptW > outW) dropped.push({ axis: "columns", top: 0, left: (keptW - 1) * s });
  const reach = (out, kept) => Math.max(out > 0 ? (out - 1) * s + extent : 0, kept > out ? (kept - 1) * s + extent : 0);
  const bigH = Math.max(H + 2 * p, reach(outH, keptH)), bigW = Math.max(W + 2 * p, reach(outW, keptW));
  // kind of a padded cell: "real", "pad" (the declared padding) or "beyond" (past it)
  const kind = (r, c) => {
    if (r >= p && r < p + H && c >= p && c < p + W) return "real";
    return r < H + 2 * p && c < W + 2 * p ? "pad" : "beyond";
  };
  const windows = [];
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      let best = -Infinity, winner = null, sum = 0, real = 0, pad = 0, beyond = 0;
      const terms = [], taps = [];
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const r = i * s + a * d, c = j * s + b * d, what = kind(r, c);
          taps.push([r, c]);
          if (what === "real") {
            const v = grid[r - p][c - p];
            real += 1; sum += v; terms.push(v);
            if (v > best) { best = v; winner = [r - p, c - p]; }
          } else if (what === "pad") pad += 1; else beyond += 1;
        }
      }
      const divisor = includePad ? real + pad : real;
      windows.push({ i, j, top: i * s, left: j * s, taps, max: best, winner, sum, terms, real, pad, beyond, divisor,
                     avg: sum / divisor });
    }
  }
  const grad = grid.map((row) => row.map(() => 0));
  for (const w of windows.slice(0, step + 1)) if (w.winner) grad[w.winner[0]][w.winner[1]] += 1;
  return { H, W, extent, outH, outW, bigH, bigW, kind, windows, grad, dropped };
}

// A rows x cols grid of distinct integers around 0, shuffled by a small seeded generator
// (mulberry32), so that each size always gives the same grid and no window has a tie.
function newGrid(rows, cols) {
  let seed = rows * 131 + cols * 17 + 5;
  const random = () => {
    seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = rows * cols;
  const values = Array.from({ length: n }, (_, m) => m - Math.floor(n / 2));
  for (let m = n - 1; m > 0; m--) {
    const other = Math.floor(random() * (m + 1));
    [values[m], values[other]] = [values[other], values[m]];
  }
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

// ---- formatting and DOM helpers -------------------------------------------------------------

function fmt(v) {
  if (v === -Infinity) return "\u2212\u221e";
  const t = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  return minusSigns(t);
}

// A line of text broken at spaces into lines of at most `width` characters.
function wrap(line, width) {
  const lines = [];
  let current = "";
  for (const word of line.split(" ")) {
    if (current && current.length + 1 + word.length > width) { lines.push(current); current = word; }
    else current = current ? `${current} ${word}` : word;
  }
  return current ? [...lines, current] : lines;
}

function numberInput(id, label, min, max) {
  const input = h("input", { type: "number", id, min, max, step: 1 });
  return [input, h("label", { for: id }, [label, input])];
}

// ---- the view -------------------------------------------------------------------------------

function render({ model, el }) {
  const id = uniqueId("pnn-pool");
  el.classList.add("prettynn-widget");
  el.dataset.widget = "pooling-explorer";

  const mode = h("select", { id: `${id}-mode` });
  const [rowsInput, rowsLabel] = numberInput(`${id}-h`, "input H", MIN_SIDE, MAX_SIDE);
  const [colsInput, colsLabel] = numberInput(`${id}-w`, "W", MIN_SIDE, MAX_SIDE);
  const [kernel, kernelLabel] = numberInput(`${id}-k`, "kernel", 1, MAX_KERNEL);
  const [stride, strideLabel] = numberInput(`${id}-s`, "stride", 1, MAX_STRIDE);
  const [padding, paddingLabel] = numberInput(`${id}-p`, "padding", 0, 2);
  const [dilation, dilationLabel] = numberInput(`${id}-d`, "dilation", 1, MAX_DILATION);
  const ceil = h("input", { type: "checkbox", id: `${id}-ceil` });
  const include = h("input", { type: "checkbox", id: `${id}-cip` });
  const back = h("button", { type: "button" }, ["\u25c0 back"]);
  const next = h("button", { type: "button" }, ["step \u25b6"]);
  const play = h("button", { type: "button" }, ["play"]);
  const all = h("button", { type: "button" }, ["all windows"]);
  const counter = h("output", { "aria-live": "polite" });
  const svg = picture();
  el.replaceChildren(h("div", { class: "pnn-pool" }, [
    h("style", {}, [CSS]),
    h("div", { class: "pnn-controls" }, [
      h("label", { for: mode.id }, ["mode", mode]), rowsLabel, colsLabel, kernelLabel, strideLabel, paddingLabel,
      dilationLabel, h("label", { for: ceil.id }, [ceil, "ceil_mode"]),
      h("label", { for: include.id }, [include, "count_include_pad"]),
    ]),
    h("div", { class: "pnn-steps" }, [back, next, play, all, counter]),
    svg,
  ]));

  let step = 0, timer = null;

  function stopPlaying() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "play";
  }

  function setTraits(values) {
    for (const [key, value] of Object.entries(values)) model.set(key, value);
    model.save_changes();
  }

  function clampInt(input, min, max) {
    const v = Math.round(Number(input.value));
    return Number.isFinite(v) ? Math.min(Math.max(v, min), max) : min;
  }

  function resize() {
    const grid = model.get("grid");
    const rows = clampInt(rowsInput, MIN_SIDE, MAX_SIDE), cols = clampInt(colsInput, MIN_SIDE, MAX_SIDE);
    if (rows !== grid.length || cols !== grid[0].length) setTraits({ grid: newGrid(rows, cols) });
    else redraw();
  }

  mode.addEventListener("change", () => setTraits({ mode: mode.value }));
  rowsInput.addEventListener("change", resize);
  colsInput.addEventListener("change", resize);
  kernel.addEventListener("change", () => {
    const k = clampInt(kernel, 1, MAX_KERNEL);
    setTraits({ padding: Math.min(model.get("padding"), Math.floor(k / 2)), kernel_size: k });
  });
  stride.addEventListener("change", () => setTraits({ stride: clampInt(stride, 1, MAX_STRIDE) }));
  padding.addEventListener("change", () => setTraits({ padding: clampInt(padding, 0, Math.floor(model.get("kernel_size") / 2)) }));
  dilation.addEventListener("change", () => setTraits({ dilation: clampInt(dilation, 1, MAX_DILATION) }));
  ceil.addEventListener("change", () => setTraits({ ceil_mode: ceil.checked }));
  include.addEventListener("change", () => setTraits({ count_include_pad: include.checked }));
  back.addEventListener("click", () => { stopPlaying(); step -= 1; redraw(); });
  next.addEventListener("click", () => { stopPlaying(); step += 1; redraw(); });
  all.addEventListener("click", () => { stopPlaying(); step = Infinity; redraw(); });
  play.addEventListener("click", () => {
    if (timer !== null) { stopPlaying(); return; }
    if (step >= total() - 1) step = -1; // start again from the first window
    const tick = () => { step += 1; redraw(); if (step >= total() - 1) stopPlaying(); };
    play.textContent = "pause";
    timer = setInterval(tick, PLAY_MS);
    tick();
  });

  let last = null;
  const total = () => (last ? last.windows.length : 0);

  function syncControls(k, grid) {
    const offered = model.get("modes");
    if (mode.options.length !== offered.length || offered.some((m, n) => mode.options[n].value !== m)) {
      mode.replaceChildren(...offered.map((m) => h("option", { value: m }, [MODE_NAMES[m]])));
    }
    mode.value = model.get("mode");
    rowsInput.value = grid.length;
    colsInput.value = grid[0].length;
    kernel.value = k;
    stride.value = model.get("stride");
    padding.max = Math.floor(k / 2);
    padding.value = model.get("padding");
    dilation.value = model.get("dilation");
    dilation.disabled = model.get("mode") === "avg"; // F.avg_pool2d has no dilation
    ceil.checked = model.get("ceil_mode");
    include.checked = model.get("count_include_pad");
    include.disabled = model.get("mode") !== "avg";
  }

  function drawGrid(g, x0, y0, rows, cols, title, cell) {
    s(g, "text", { x: x0, y: y0 - 8, "font-size": 13, "font-weight": 600 }, title);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) cell(r, c, x0 + c * CELL, y0 + r * CELL);
  }

  function box(g, x, y, fill, text, opts = {}) {
    s(g, "rect", { x, y, width: CELL, height: CELL, fill, stroke: opts.stroke || COLOR.line,
                   "stroke-width": opts.width || 1, "stroke-dasharray": opts.dash || "none" });
    if (text !== "") {
      const label = s(g, "text", { x: x + CELL / 2, y: y + CELL / 2 + 4, "text-anchor": "middle", "font-size": opts.size || 12,
                                   fill: opts.color || COLOR.text, "font-weight": opts.bold ? 700 : 400 }, text);
      if (opts.value !== undefined) label.setAttribute(opts.data, String(opts.value)); // the exact value, for tests
    }
  }

  function redraw() {
    const start = performance.now();
    const grid = model.get("grid"), how = model.get("mode");
    const k = model.get("kernel_size"), st = model.get("stride"), p = model.get("padding");
    const d = how === "avg" ? 1 : model.get("dilation");
    const ceilMode = model.get("ceil_mode"), includePad = model.get("count_include_pad");
    syncControls(k, grid);
    const count = compute(grid, k, st, p, d, ceilMode, includePad, 0).windows.length;
    step = Math.max(0, Math.min(step, count - 1));
    const res = compute(grid, k, st, p, d, ceilMode, includePad, step);
    last = res;
    const current = res.windows[step];
    back.disabled = step <= 0;
    next.disabled = step >= count - 1;
    counter.value = count ? `window ${step + 1} of ${count}` : "no window fits";

    svg.replaceChildren();
    const g = s(svg, "g");
    const inX = 0, inY = TITLE + 4;
    const outX = res.bigW * CELL + GAP;
    const gradX = outX + Math.max(res.outW, 2) * CELL + GAP;
    const padText = how === "avg" ? "0" : "\u2212\u221e";
    const isTap = (r, c) => current && current.taps.some(([a, b]) => a === r && b === c);

    // the input, with its padding ring and the cells past it (reached by ceil mode's windows)
    drawGrid(g, inX, inY, res.bigH, res.bigW, "input x (padded)", (r, c, x, y) => {
      const what = res.kind(r, c);
      const counted = how === "avg" && isTap(r, c) && (what === "real" || (what === "pad" && includePad));
      const isWinner = how !== "avg" && current && current.winner && what === "real" &&
        current.winner[0] === r - p && current.winner[1] === c - p;
      if (what === "real") {
        box(g, x, y, isWinner ? COLOR.win : counted ? COLOR.counted : "#FFFFFF", fmt(grid[r - p][c - p]), { bold: isWinner });
      } else if (what === "pad") {
        box(g, x, y, counted ? COLOR.counted : COLOR.pad, padText, { dash: "3 2", color: COLOR.muted, size: 11 });
      } else {
        box(g, x, y, COLOR.beyond, "\u00b7", { dash: "1 3", color: COLOR.muted });
      }
    });
    for (const w of res.dropped) {
      s(g, "rect", { x: inX + w.left * CELL + 2, y: inY + w.top * CELL + 2, width: res.extent * CELL - 4,
                     height: res.extent * CELL - 4, fill: "none", stroke: COLOR.dropped, "stroke-width": 2.5,
                     "stroke-dasharray": "6 4", "data-dropped": w.axis });
    }
    if (current) {
      if (d === 1) {
        s(g, "rect", { x: inX + current.left * CELL, y: inY + current.top * CELL, width: k * CELL, height: k * CELL,
                       fill: "none", stroke: COLOR.window, "stroke-width": 3 });
      } else { // a dilated window: its span thin, its taps thick
        s(g, "rect", { x: inX + current.left * CELL, y: inY + current.top * CELL, width: res.extent * CELL,
                       height: res.extent * CELL, fill: "none", stroke: COLOR.window, "stroke-width": 1.5,
                       "stroke-dasharray": "5 3" });
        for (const [r, c] of current.taps) {
          s(g, "rect", { x: inX + c * CELL + 1.5, y: inY + r * CELL + 1.5, width: CELL - 3, height: CELL - 3,
                         fill: "none", stroke: COLOR.window, "stroke-width": 3 });
        }
      }
    }

    // the output (or grad_output), filled up to the current window
    const outTitle = how === "backward" ? "grad_output (all 1)" : `output (${res.outH}\u00d7${res.outW})`;
    drawGrid(g, outX, inY, res.outH, res.outW, outTitle, (r, c, x, y) => {
      const w = res.windows[r * res.outW + c];
      const done = r * res.outW + c <= step;
      const text = how === "backward" ? "1" : done ? fmt(how === "max" ? w.max : w.avg) : "";
      const value = how === "max" ? w.max : w.avg;
      box(g, x, y, done ? "#FFFFFF" : COLOR.pad, text,
          how !== "backward" && done ? { data: "data-output", value: `${r},${c},${value}` } : {});
    });
    if (current) {
      s(g, "rect", { x: outX + current.j * CELL, y: inY + current.i * CELL, width: CELL, height: CELL,
                     fill: "none", stroke: COLOR.window, "stroke-width": 3 });
    }

    // backward: the gradient so far, and an arrow from the current output to its winner
    if (how === "backward") {
      drawGrid(g, gradX, inY, res.H, res.W, "grad_x so far", (r, c, x, y) => {
        const v = res.grad[r][c];
        const isWinner = current && current.winner && current.winner[0] === r && current.winner[1] === c;
        box(g, x, y, COLOR.grad[Math.min(v, 4)], v ? String(v) : "0",
            { color: v >= 3 ? "#FFFFFF" : v ? COLOR.text : "#AAAAAA", bold: v >= 2, width: isWinner ? 3 : v >= 2 ? 2.5 : 1,
              stroke: isWinner ? COLOR.win : v >= 2 ? COLOR.text : COLOR.line, data: "data-grad", value: `${r},${c},${v}` });
      });
      if (current && current.winner) {
        const x1 = outX + (current.j + 1) * CELL, y1 = inY + (current.i + 0.5) * CELL;
        const x2 = gradX + current.winner[1] * CELL - 1, y2 = inY + (current.winner[0] + 0.5) * CELL;
        s(g, "path", { d: `M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}`, fill: "none",
                       stroke: COLOR.win, "stroke-width": 2.5, "marker-end": `url(#${id}-arrow)` });
      }
      const defs = s(svg, "defs");
      const marker = s(defs, "marker", { id: `${id}-arrow`, viewBox: "0 0 10 10", refX: 9, refY: 5,
                                          markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      s(marker, "path", { d: "M0,0 L10,5 L0,10 z", fill: COLOR.win });
    }

    // what the current step computes, in words
    const panelH = Math.max(res.bigH, res.outH, how === "backward" ? res.H : 0) * CELL;
    const width = Math.max(gradX + (how === "backward" ? res.W * CELL : 0), 560);
    const notes = explain(current, how, k, d, includePad, res);
    for (const w of res.dropped) {
      notes.push(`ceil_mode would add a last ${w.axis === "rows" ? "row" : "column"} of windows starting in the ` +
        `${w.axis === "rows" ? "bottom" : "right"} padding (vermillion dashed outline): PyTorch drops it.`);
    }
    const lines = notes.flatMap((line) => wrap(line, Math.floor(width / CHAR_PX)));
    const textY = inY + panelH + 24;
    lines.forEach((line, n) => s(g, "text", { x: 0, y: textY + n * 19, "font-size": 13, fill: COLOR.text }, line));
    svg.setAttribute("viewBox", `-4 -4 ${width + 8} ${textY + lines.length * 19 + 4}`);
    svg.setAttribute("aria-label", `${MODE_NAMES[how]}, input ${res.H} by ${res.W}, kernel ${k}, stride ${st}, ` +
      `padding ${p}${d > 1 ? `, dilation ${d}` : ""}${ceilMode ? ", ceil_mode" : ""}: output ${res.outH} by ${res.outW}. ` +
      lines.join(" "));
    el.dataset.redrawMs = String(performance.now() - start);
  }

  function explain(w, how, k, d, includePad, res) {
    if (!w) return ["The window is larger than the padded input: no output."];
    const taps = d > 1 ? `${k}\u00d7${k} taps ${d} cells apart, spanning ${res.extent}\u00d7${res.extent} cells` : `${k}\u00d7${k} cells`;
    const where = `Window (${w.i}, ${w.j}): ${taps}; ${w.real} real, ${w.pad} padding` +
      (w.beyond ? `, ${w.beyond} past the padding (ceil_mode)` : "") + ".";
    if (!w.winner && how !== "avg") {
      return [where, "All its taps are padding: the output is \u2212\u221e" +
        (how === "backward" ? " and no input receives its gradient." : ".")];
    }
    if (how === "max") {
      return [where, `max = ${fmt(w.max)} (orange); padding holds \u2212\u221e, so it never wins.`];
    }
    if (how === "avg") {
      const term = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));
      const shown = w.terms.length > 9 ? `${w.terms.slice(0, 9).map(term).join(" + ")} + \u2026` : w.terms.map(term).join(" + ");
      const rule = includePad ? "real + padding cells (count_include_pad=True)" : "real cells only (count_include_pad=False)";
      return [where, `sum = ${shown} = ${fmt(w.sum)}.`,
        `divisor = ${w.divisor}, the ${rule}` + (w.beyond ? "; cells past the padding never count" : "") + ".",
        `average = ${fmt(w.sum)} / ${w.divisor} = ${fmt(w.avg)} (blue cells are counted).`];
    }
    const shared = res.grad[w.winner[0]][w.winner[1]];
    return [where, `Its gradient 1 flows to its maximum, x[${w.winner[0]}, ${w.winner[1]}] = ${fmt(w.max)}` +
      (shared > 1 ? `, which has now won ${shared} windows: the gradients add up.` : ".")];
  }

  const reset = () => { stopPlaying(); step = 0; redraw(); };
  return redrawOnChange(model, el, ["grid", "modes", "mode", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
    "count_include_pad"], reset, stopPlaying);
}

export default { render };
