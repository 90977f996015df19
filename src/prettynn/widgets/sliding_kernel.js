// A kernel sliding over an image (prettynn.widgets.sliding_kernel.SlidingKernel).
// One ES module, no imports: every convolution is computed here, in the browser, so each control
// works live in JupyterLab and from saved widget state on a static page.
// Traits: images {name: 2-D list}, image, kernels {name: kernels[kh - 1][kw - 1], a kh x kw list},
// kernel, kernel_height and kernel_width (1..5), padding (0..3), same (bool, padding='same'),
// stride (1..3), dilation (1..3), position (int), channels (1 or 3), modes (offered), mode
// ("forward" | "backward").
// Forward is torch's conv2d: y[o, i, j] = b[o] + sum_c sum_a sum_b W[o, c, a, b] * xpad[c, s*i + d*a, s*j + d*b].
// Backward (one channel, grad_output = 1 everywhere): output (i, j) adds K[a, b] to the gradient of
// xpad[s*i + d*a, s*j + d*b], for the outputs up to the current one; grad_x is that gradient without the padding.
// prettynn.widgets.esm puts common.js (the helpers h, s, baseCss, outputSize, ...) before this file.

const COLOR = {
  ...INK,
  pos: "#0072B2",      // Okabe-Ito blue: positive values
  neg: "#D55E00",      // Okabe-Ito vermillion: negative values
  window: "#E69F00",   // Okabe-Ito orange: the current window's taps
  current: "#111111",
  pad: "#EDEDED",
  grid: "#C8C8C8",
};
const WIDTH = 720;
const PLAY_MS = 450;
const BIASES = [0.1, -0.1]; // the multi-channel view's two output channels

const CSS = baseCss(".pnn-sk", COLOR.pos) + `
.pnn-sk .pnn-step { display: grid; grid-template-columns: 5.2em 1fr 4.5em auto auto auto; align-items: center; gap: 6px; }
.pnn-sk .pnn-controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 4px 14px; margin-top: 8px; }
.pnn-sk .pnn-row { grid-template-columns: 7.2em 1fr 1.4em; }
.pnn-sk .pnn-choice { grid-template-columns: 4.6em 1fr; }
.pnn-sk select { width: 100%; }
.pnn-sk button { padding: 2px 10px; min-width: 4.2em; }
`;

// ---- the computation ---------------------------------------------------------------------------

// The kernel flipped: t = 0 as it is, 1 left-right, 2 up-down, 3 both (keeps a kh x kw shape).
function flipped(k, t) {
  const rows = t & 2 ? k.slice().reverse() : k;
  return t & 1 ? rows.map((row) => row.slice().reverse()) : rows.map((row) => row.slice());
}

// Zero padding (top, bottom, left, right): p on every side, or 'same' (d(k - 1) in total per axis,
// the extra one at the bottom / right, as torch).
function paddings(p, same, kh, kw, d) {
  if (!same) return { top: p, bottom: p, left: p, right: p };
  const th = d * (kh - 1), tw = d * (kw - 1);
  return { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2), left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
}

// The padded input of one channel, with a flag for padding cells.
function padded(image, pads) {
  const H = image.length, W = image[0].length;
  return Array.from({ length: H + pads.top + pads.bottom }, (_, r) => Array.from({ length: W + pads.left + pads.right }, (_, c) => {
    const inside = r >= pads.top && r < H + pads.top && c >= pads.left && c < W + pads.left;
    return { value: inside ? image[r - pads.top][c - pads.left] : 0, pad: !inside };
  }));
}

// The sizes of the padded input (hp x wp), of the dilated kernel's span and of the output (hOut x wOut).
function geometry(H, W, kh, kw, pads, stride, d) {
  const hp = H + pads.top + pads.bottom, wp = W + pads.left + pads.right;
  return { spanH: d * (kh - 1) + 1, spanW: d * (kw - 1) + 1, hp, wp,
    hOut: outputSize(hp, kh, stride, 0, d), wOut: outputSize(wp, kw, stride, 0, d) }; // the padding is in hp, wp
}

// The gradient of the padded input after outputs 0..last (row by row) sent grad_output = 1 back through
// the kernel; and how many taps of all the outputs read each position.
function scatter(g, kernel, last) {
  const grad = Array.from({ length: g.hp }, () => new Array(g.wp).fill(0));
  const reads = Array.from({ length: g.hp }, () => new Array(g.wp).fill(0));
  for (let q = 0; q < g.hOut * g.wOut; q++) {
    const i = Math.floor(q / g.wOut), j = q % g.wOut;
    kernel.forEach((row, a) => row.forEach((w, b) => {
      const r = i * g.stride + a * g.dilation, c = j * g.stride + b * g.dilation;
      reads[r][c] += 1;
      if (q <= last) grad[r][c] += w;
    }));
  }
  return { grad, reads };
}

// The products and sum of output (i, j) of one channel with one kernel slice.
function windowTerms(xp, kernel, i, j, s, d) {
  const terms = [];
  kernel.forEach((row, a) => row.forEach((w, b) => {
    const r = i * s + a * d, c = j * s + b * d;
    terms.push({ w, x: xp[r][c].value, r, c });
  }));
  return { terms, sum: terms.reduce((acc, t) => acc + t.w * t.x, 0) };
}

function convolve(xps, kernels, bias, g) {
  // xps: channels of padded inputs; kernels: one slice per channel; returns hOut x wOut.
  return Array.from({ length: g.hOut }, (_, i) => Array.from({ length: g.wOut }, (_, j) =>
    bias + xps.reduce((acc, xp, c) => acc + windowTerms(xp, kernels[c], i, j, g.stride, g.dilation).sum, 0)));
}

// ---- formatting and colours ---------------------------------------------------------------------

function fmt(v, digits = 2) {
  if (Math.abs(v) < 1e-9) return "0";
  const text = Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(digits)));
  return text.replace("-", "\u2212");
}

function grey(v, lo, hi) {
  const t = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0;
  const level = Math.round(255 - t * 200);
  return { fill: `rgb(${level},${level},${level})`, ink: t > 0.55 ? "#FFFFFF" : COLOR.text };
}

function diverging(v, scale) {
  const t = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0;
  const [r, g, b] = v >= 0 ? [0, 114, 178] : [213, 94, 0];
  const mix = (c) => Math.round(255 + (c - 255) * t * 0.85);
  return { fill: `rgb(${mix(r)},${mix(g)},${mix(b)})`, ink: t > 0.6 ? "#FFFFFF" : COLOR.text };
}

// Lines of at most `width` characters from a list of terms joined by `joint`.
function wrap(terms, first, width, joint = " + ") {
  const lines = [];
  let line = first;
  terms.forEach((term, index) => {
    const sep = index ? joint : "";
    if (line.length + sep.length + term.length > width && line.trim()) {
      lines.push(line + sep.trimEnd()); // the separator ends the line, the next one starts with a term
      line = "    " + term;
    } else {
      line += sep + term;
    }
  });
  lines.push(line);
  return lines;
}

// ---- the view ----------------------------------------------------------------------------------

function render({ model, el }) {
  const id = uniqueId("pnn-sk");
  el.classList.add("prettynn-widget");
  el.dataset.widget = "sliding-kernel";

  const root = h("div", { class: "pnn-sk" });

  const slider = (name, label, min, max) => {
    const control = labelledSlider(`${id}-${name}`, label, min, max);
    control.input.addEventListener("input", () => { stop(); model.set(name, parseInt(control.input.value, 10)); model.save_changes(); });
    return control;
  };
  const select = (name, label) => {
    const input = h("select", { id: `${id}-${name}`, "aria-label": label });
    input.addEventListener("change", () => {
      stop();
      model.set(name, name === "channels" ? parseInt(input.value, 10) : input.value);
      model.save_changes();
    });
    return { input, row: h("div", { class: "pnn-row pnn-choice" }, [h("label", { for: `${id}-${name}` }, [label]), input]) };
  };

  const position = slider("position", "output entry", 0, 0);
  const prev = h("button", { type: "button", "aria-label": "previous output entry" }, ["\u25c0 Back"]);
  const next = h("button", { type: "button", "aria-label": "next output entry" }, ["Step \u25b6"]);
  const play = h("button", { type: "button", "aria-label": "play through the output entries" }, ["Play"]);
  const image = select("image", "image");
  const kernel = select("kernel", "kernel");
  const channels = select("channels", "channels");
  for (const [value, text] of [["1", "1 in, 1 out"], ["3", "3 in, 2 out"]]) channels.input.append(h("option", { value }, [text]));
  const outChannel = h("select", { id: `${id}-out`, "aria-label": "output channel shown" });
  for (const o of [0, 1]) outChannel.append(h("option", { value: String(o) }, [`channel ${o}`]));
  const outRow = h("div", { class: "pnn-row pnn-choice" }, [h("label", { for: `${id}-out` }, ["output"]), outChannel]);
  const kh = slider("kernel_height", "kernel height", 1, 5);
  const kw = slider("kernel_width", "kernel width", 1, 5);
  const padding = slider("padding", "padding", 0, 3);
  const { input: same, row: sameRow } = labelledCheckbox(`${id}-same`, "padding='same'");
  same.addEventListener("change", () => { stop(); model.set("same", same.checked); model.save_changes(); });
  const mode = select("mode", "mode");
  const stride = slider("stride", "stride", 1, 3);
  const dilation = slider("dilation", "dilation", 1, 3);

  const hint = h("p", { class: "pnn-hint" }, [
    "Keyboard: Tab to a control; arrow keys move a slider (the first one walks through the output entries), ",
    "Enter or Space presses a button, Space toggles a checkbox.",
  ]);
  const svg = picture();
  root.append(h("style", {}, [CSS]),
    h("div", { class: "pnn-step" }, [h("label", { for: `${id}-position` }, ["position"]), position.input, position.out, prev, next, play]),
    h("div", { class: "pnn-controls" }, [mode.row, image.row, kernel.row, channels.row, outRow, kh.row, kw.row, padding.row, sameRow,
      stride.row, dilation.row]),
    hint, svg);
  el.replaceChildren(root);

  let timer = null;
  let shownOutput = 0;
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "Play";
  }
  function setPosition(value) { model.set("position", value); model.save_changes(); }
  prev.addEventListener("click", () => { stop(); setPosition(Math.max(0, model.get("position") - 1)); });
  next.addEventListener("click", () => { stop(); setPosition(Math.min(lastPosition, model.get("position") + 1)); });
  play.addEventListener("click", () => {
    if (timer !== null) { stop(); return; }
    if (model.get("position") >= lastPosition) setPosition(0);
    play.textContent = "Pause";
    timer = setInterval(() => {
      if (model.get("position") >= lastPosition) { stop(); return; }
      setPosition(model.get("position") + 1);
    }, PLAY_MS);
  });
  outChannel.addEventListener("change", () => { shownOutput = parseInt(outChannel.value, 10); redraw(); });

  let lastPosition = 0;

  // ---- drawing ----

  function drawGrid(g, cells, x0, y0, cs, color, showNumbers, fontScale = 0.48) {
    cells.forEach((row, r) => row.forEach((cell, c) => {
      const { fill, ink } = color(cell);
      const rect = s(g, "rect", { x: x0 + c * cs, y: y0 + r * cs, width: cs, height: cs, fill, stroke: COLOR.grid, "stroke-width": 0.8 });
      if (cell.data) rect.setAttribute("data-output", cell.data);
      if (showNumbers && cell.text !== "") {
        s(g, "text", { x: x0 + (c + 0.5) * cs, y: y0 + (r + 0.5) * cs + 4, "text-anchor": "middle",
          "font-size": Math.min(12, cs * fontScale), fill: cell.pad ? "#8A8A8A" : ink }, cell.text);
      }
    }));
  }

  function drawInput(g, xp, lo, hi, x0, y0, cs, terms, label) {
    s(g, "text", { x: x0, y: y0 - 8, "font-size": 13, fill: COLOR.text }, label);
    const cells = xp.map((row) => row.map((cell) => ({ ...cell, text: cell.pad ? "0" : fmt(cell.value, 2) })));
    drawGrid(g, cells, x0, y0, cs, (cell) => (cell.pad ? { fill: COLOR.pad, ink: "#8A8A8A" } : grey(cell.value, lo, hi)), cs >= 20);
    if (!terms) return;
    const rs = terms.map((t) => t.r), cols = terms.map((t) => t.c);
    const top = Math.min(...rs), left = Math.min(...cols);
    s(g, "rect", { x: x0 + left * cs, y: y0 + top * cs, width: (Math.max(...cols) - left + 1) * cs,
      height: (Math.max(...rs) - top + 1) * cs, fill: "none", stroke: COLOR.window, "stroke-width": 1.5, "stroke-dasharray": "4 3" });
    for (const t of terms) {
      s(g, "rect", { x: x0 + t.c * cs + 1.5, y: y0 + t.r * cs + 1.5, width: cs - 3, height: cs - 3,
        fill: "none", stroke: COLOR.window, "stroke-width": 3 });
    }
  }

  function drawKernel(g, kernel, x0, y0, cs, label) {
    if (label) s(g, "text", { x: x0, y: y0 - 8, "font-size": 13, fill: COLOR.text }, label);
    const scale = Math.max(...kernel.flat().map(Math.abs), 1e-9);
    const cells = kernel.map((row) => row.map((v) => ({ value: v, text: fmt(v, 2) })));
    drawGrid(g, cells, x0, y0, cs, (cell) => diverging(cell.value, scale), cs >= 18);
    s(g, "rect", { x: x0, y: y0, width: kernel[0].length * cs, height: kernel.length * cs, fill: "none", stroke: COLOR.window, "stroke-width": 2 });
  }

  function drawOutput(g, out, x0, y0, cs, pos, label, active, channel) {
    s(g, "text", { x: x0, y: y0 - 8, "font-size": 13, fill: COLOR.text, "font-weight": active ? 700 : 400 }, label);
    const scale = Math.max(...out.flat().map(Math.abs), 1e-9);
    const wOut = out[0].length;
    const cells = out.map((row, i) => row.map((v, j) => {
      const done = i * wOut + j <= pos;  // entries computed so far carry their value (channel, row, column, value)
      return { value: v, done, text: done ? fmt(v, 2) : "", data: done ? `${channel},${i},${j},${v}` : "" };
    }));
    drawGrid(g, cells, x0, y0, cs, (cell) => (cell.done ? diverging(cell.value, scale) : { fill: "#FFFFFF", ink: COLOR.text }), cs >= 22, 0.36);
    const i = Math.floor(pos / wOut), j = pos % wOut;
    if (active) {
      s(g, "rect", { x: x0 + j * cs, y: y0 + i * cs, width: cs, height: cs, fill: "none", stroke: COLOR.current, "stroke-width": 3 });
    }
  }

  function textLines(g, lines, x0, y0, bold = -1) {
    lines.forEach((line, n) => s(g, "text", { x: x0, y: y0 + n * 17, "font-size": 13, fill: COLOR.text,
      "font-weight": n === bold ? 700 : 400, "xml:space": "preserve" }, line));
    return y0 + lines.length * 17;
  }

  // The backward pass, one channel, grad_output = 1: the gradient of the padded input after outputs 0..pos.
  function drawBackward(xp, kernel, g, pos, i, j, kLabel, padText, H, W, pads, y) {
    const { grad, reads } = scatter(g, kernel, pos);
    const final = scatter(g, kernel, g.hOut * g.wOut - 1).grad;
    const scale = Math.max(...final.flat().map(Math.abs), 1e-9);
    const current = windowTerms(xp, kernel, i, j, g.stride, g.dilation).terms;
    const cs = Math.min(26, Math.floor(290 / Math.max(g.hp, g.wp)));
    const ck = Math.min(26, Math.floor(120 / Math.max(kernel.length, kernel[0].length)));
    const co = Math.min(26, Math.floor(250 / Math.max(g.hOut, g.wOut)));
    const gg = s(svg, "g");
    s(gg, "text", { x: 0, y: y - 8, "font-size": 13, fill: COLOR.text }, `gradient of the padded input ${g.hp} \u00d7 ${g.wp}`);
    grad.forEach((row, r) => row.forEach((v, c) => {
      const cell = xp[r][c];
      const { fill, ink } = diverging(v, scale);
      const rect = s(gg, "rect", { x: c * cs, y: y + r * cs, width: cs, height: cs, fill, stroke: COLOR.grid, "stroke-width": 0.8 });
      rect.setAttribute("data-grad", `${r},${c},${v}`);
      if (cell.pad) s(gg, "rect", { x: c * cs, y: y + r * cs, width: cs, height: cs, fill: COLOR.pad, "fill-opacity": 0.6, stroke: "none" });
      if (!cell.pad && reads[r][c] === 0) {
        s(gg, "rect", { x: c * cs + 1.5, y: y + r * cs + 1.5, width: cs - 3, height: cs - 3, fill: "none", stroke: COLOR.neg, "stroke-width": 2 });
      }
      if (cs >= 18) {
        s(gg, "text", { x: (c + 0.5) * cs, y: y + (r + 0.5) * cs + 4, "text-anchor": "middle", "font-size": Math.min(12, cs * 0.45),
          fill: cell.pad ? "#6A6A6A" : ink }, fmt(v, 2));
      }
    }));
    // The inner block is grad_x; the padding's share is cropped.
    s(gg, "rect", { x: pads.left * cs, y: y + pads.top * cs, width: W * cs, height: H * cs, fill: "none", stroke: COLOR.current,
      "stroke-width": 1.5, "stroke-dasharray": "5 3" });
    for (const t of current) {
      s(gg, "rect", { x: t.c * cs + 1.5, y: y + t.r * cs + 1.5, width: cs - 3, height: cs - 3, fill: "none", stroke: COLOR.window, "stroke-width": 3 });
    }
    drawKernel(gg, kernel, 318, y, ck, `kernel ${kLabel}`);
    s(gg, "text", { x: 318, y: y + kernel.length * ck + 18, "font-size": 12, fill: COLOR.muted }, `dilation ${g.dilation}, stride ${g.stride}`);
    s(gg, "text", { x: 462, y: y - 8, "font-size": 13, fill: COLOR.text, "font-weight": 700 }, `grad_output ${g.hOut} \u00d7 ${g.wOut} (all 1)`);
    for (let r = 0; r < g.hOut; r++) for (let c = 0; c < g.wOut; c++) {
      const done = r * g.wOut + c <= pos;
      s(gg, "rect", { x: 462 + c * co, y: y + r * co, width: co, height: co, fill: done ? diverging(1, 1.6).fill : "#FFFFFF",
        stroke: COLOR.grid, "stroke-width": 0.8 });
      if (co >= 18) s(gg, "text", { x: 462 + (c + 0.5) * co, y: y + (r + 0.5) * co + 4, "text-anchor": "middle", "font-size": 11, fill: COLOR.text }, "1");
    }
    s(gg, "rect", { x: 462 + j * co, y: y + i * co, width: co, height: co, fill: "none", stroke: COLOR.current, "stroke-width": 3 });
    y += Math.max(g.hp * cs, kernel.length * ck + 24, g.hOut * co) + 26;
    const terms = current.map((t) => `${fmt(t.w)}\u2192(${t.r}, ${t.c})`);
    y = textLines(s(svg, "g"), wrap(terms, `output (${i}, ${j}) sends 1 \u00d7 each tap to the position it read: `, 96, ", "), 0, y, 0);
    const unread = reads.some((row, r) => row.some((n, c) => n === 0 && !xp[r][c].pad));
    y = textLines(s(svg, "g"), [
      `Dashed: grad_x, the ${H} \u00d7 ${W} input; the gradient that reaches the padding (${padText}) is cropped.`,
      unread ? "Red outline: input positions no tap reads; their gradient stays 0." : "Every input position is read by some tap.",
      "grad_weight[a, b] gains grad_output[i, j] times the input value under tap (a, b): the window itself.",
    ], 0, y + 4);
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${y + 6}`);
    svg.setAttribute("aria-label", `Backward pass: output (${i}, ${j}) scatters its gradient through the ${kLabel} kernel ` +
      "onto the padded input positions its window read; the gradient accumulates output by output.");
  }

  function redraw() {
    const start = performance.now();
    const images = model.get("images"), kernels = model.get("kernels");
    const name = model.get("image"), kname = model.get("kernel");
    const khv = model.get("kernel_height"), kwv = model.get("kernel_width");
    const p = model.get("padding"), st = model.get("stride"), d = model.get("dilation"), isSame = Boolean(model.get("same"));
    const offered = model.get("modes") || ["forward"];
    const backward = model.get("mode") === "backward" && offered.includes("backward");
    const multi = model.get("channels") === 3 && !backward;
    const base = kernels[kname][khv - 1][kwv - 1];
    const kLabel = `${khv} \u00d7 ${kwv}`;

    // Controls follow the model.
    for (const [sel, options] of [[image.input, Object.keys(images)], [kernel.input, Object.keys(kernels)]]) {
      if (sel.options.length !== options.length) sel.replaceChildren(...options.map((o) => h("option", { value: o }, [o])));
    }
    if (mode.input.options.length !== offered.length) {
      mode.input.replaceChildren(...offered.map((o) => h("option", { value: o }, [o === "forward" ? "forward pass" : "backward pass"])));
    }
    mode.row.style.display = offered.length > 1 ? "" : "none";
    mode.input.value = backward ? "backward" : "forward";
    image.input.value = name; kernel.input.value = kname; channels.input.value = String(model.get("channels"));
    channels.input.disabled = backward;
    outRow.style.visibility = multi ? "visible" : "hidden";
    for (const [ctl, v] of [[kh, khv], [kw, kwv], [padding, p], [stride, st], [dilation, d]]) { ctl.input.value = String(v); ctl.out.textContent = String(v); }
    same.checked = isSame;
    padding.input.disabled = isSame;
    const pads = paddings(p, isSame, khv, kwv, d);
    const padText = isSame ? `'same': ${pads.top}+${pads.bottom} rows, ${pads.left}+${pads.right} columns` : `padding ${p}`;
    if (isSame) padding.out.textContent = "\u2013";

    const img = images[name];
    const H = img.length, W = img[0].length;
    const g = { ...geometry(H, W, khv, kwv, pads, st, d), stride: st, dilation: d };
    const inputs = multi ? [img, img.map((row) => row.slice().reverse()), img.slice().reverse()] : [img];
    const xps = inputs.map((x) => padded(x, pads));
    // Output channel o's slice for input channel c: the preset flipped in way (o + c) mod 4 (see flipped).
    const weights = multi ? [0, 1].map((o) => inputs.map((_, c) => flipped(base, (o + c) % 4))) : [[base]];
    const biases = multi ? BIASES : [0];
    const all = img.flat();
    const lo = Math.min(0, ...all), hi = Math.max(...all);

    svg.replaceChildren();
    let y = 24;
    const rejected = isSame && st > 1;
    if (rejected || g.hOut < 1 || g.wOut < 1) {
      lastPosition = 0;
      position.input.max = "0"; position.input.value = "0"; position.out.textContent = "\u2013";
      const cs = Math.min(24, Math.floor(300 / Math.max(g.hp, g.wp)));
      drawInput(s(svg, "g"), xps[0], lo, hi, 0, y, cs, null, `padded input ${g.hp} \u00d7 ${g.wp}`);
      const ty = y + g.hp * cs + 24;
      textLines(s(svg, "g"), rejected ? [
        `No output: torch rejects padding='same' with stride ${st} (a RuntimeError).`,
        "With a stride, 'same' is ambiguous; choose stride 1 or a number for the padding.",
      ] : [
        `No output: the kernel spans ${g.spanH} \u00d7 ${g.spanW} positions (d(k \u2212 1) + 1 per axis), more than the padded input's ${g.hp} \u00d7 ${g.wp}.`,
        "torch raises a RuntimeError (\u201ckernel size can't be greater than actual input size\u201d). Add padding or shrink the kernel.",
      ], 0, ty, 0);
      svg.setAttribute("viewBox", `0 0 ${WIDTH} ${ty + 30}`);
      svg.setAttribute("aria-label", rejected ? "No output: padding 'same' with a stride is rejected."
        : "No output: the dilated kernel is larger than the padded input.");
      svg.dataset.noOutput = "true";
      el.dataset.redrawMs = String(performance.now() - start);
      return;
    }

    lastPosition = g.hOut * g.wOut - 1;
    const pos = Math.min(model.get("position"), lastPosition);
    position.input.max = String(lastPosition);
    position.input.value = String(pos);
    const i = Math.floor(pos / g.wOut), j = pos % g.wOut;
    position.out.textContent = `(${i}, ${j})`;
    position.input.setAttribute("aria-valuetext", `output entry row ${i}, column ${j}, ${pos + 1} of ${lastPosition + 1}`);
    if (backward) {
      drawBackward(xps[0], base, g, pos, i, j, kLabel, padText, H, W, pads, y);
      el.dataset.redrawMs = String(performance.now() - start);
      return;
    }
    const outputs = weights.map((slices, o) => convolve(xps, slices, biases[o], g));
    const o = multi ? Math.min(shownOutput, 1) : 0;
    outChannel.value = String(o);
    const parts = xps.map((xp, c) => windowTerms(xp, weights[o][c], i, j, st, d));

    if (!multi) {
      const cs = Math.min(26, Math.floor(290 / Math.max(g.hp, g.wp)));
      const ck = Math.min(26, Math.floor(120 / Math.max(khv, kwv)));
      const co = Math.min(26, Math.floor(250 / Math.max(g.hOut, g.wOut)));
      const gg = s(svg, "g");
      drawInput(gg, xps[0], lo, hi, 0, y, cs, parts[0].terms, `padded input ${g.hp} \u00d7 ${g.wp} (${isSame ? "'same'" : `padding ${p}`})`);
      drawKernel(gg, weights[0][0], 318, y, ck, `kernel ${kLabel}`);
      s(gg, "text", { x: 318, y: y + khv * ck + 18, "font-size": 12, fill: COLOR.muted }, `dilation ${d}, stride ${st}`);
      drawOutput(gg, outputs[0], 462, y, co, pos, `output ${g.hOut} \u00d7 ${g.wOut}`, true, 0);
      y += Math.max(g.hp * cs, khv * ck + 24, g.hOut * co) + 26;
      const terms = parts[0].terms.map((t) => `${fmt(t.w)}\u00b7${fmt(t.x)}`);
      y = textLines(s(svg, "g"), wrap(terms, `y[${i}, ${j}] = `, 96), 0, y);
      y = textLines(s(svg, "g"), [`        = ${fmt(parts[0].sum, 4)}`], 0, y, 0);
      svg.setAttribute("aria-label", `Output entry (${i}, ${j}) = ${fmt(parts[0].sum, 4)}: the sum of ${terms.length} products ` +
        `of the kernel with the highlighted window of the padded input.`);
    } else {
      const cs = Math.min(20, Math.floor(200 / Math.max(g.hp, g.wp)));
      const ck = Math.min(18, Math.floor(90 / Math.max(khv, kwv)));
      const gg = s(svg, "g");
      const rowHeight = g.hp * cs;
      xps.forEach((xp, c) => drawInput(gg, xp, lo, hi, c * 240, y, cs, parts[c].terms, `input channel ${c}`));
      y += rowHeight + 30;
      xps.forEach((_, c) => {
        drawKernel(gg, weights[o][c], c * 240, y, ck, `W[${o}, ${c}]`);
        s(gg, "text", { x: c * 240 + kwv * ck + 10, y: y + (khv * ck) / 2 + 5, "font-size": 13, fill: COLOR.text },
          `s${c} = ${fmt(parts[c].sum, 3)}`);
      });
      y += khv * ck + 26;
      const total = parts.reduce((acc, part) => acc + part.sum, biases[o]);
      y = textLines(s(svg, "g"), [
        `y[${o}, ${i}, ${j}] = s0 + s1 + s2 + b${o} = ${parts.map((part) => fmt(part.sum, 3)).join(" + ")} + ${fmt(biases[o])} = ${fmt(total, 4)}`,
        `Each output channel has its own kernel, one ${kLabel} slice per input channel, and one bias.`,
      ], 0, y, 0) + 22;
      const co = Math.min(20, Math.floor(220 / Math.max(g.hOut, g.wOut)));
      outputs.forEach((out, oo) => drawOutput(gg, out, oo * 300, y, co, pos,
        `output channel ${oo} (bias ${fmt(biases[oo])})`, oo === o, oo));
      y += g.hOut * co + 10;
      svg.setAttribute("aria-label", `Three input channels, each correlated with its kernel slice of output channel ${o}; ` +
        `entry (${i}, ${j}) = ${fmt(total, 4)}.`);
    }
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${y + 6}`);
    el.dataset.redrawMs = String(performance.now() - start);
  }

  return redrawOnChange(model, el, ["images", "image", "kernels", "kernel", "kernel_height", "kernel_width", "padding",
    "same", "stride", "dilation", "position", "channels", "modes", "mode"], redraw, stop);
}

export default { render };
