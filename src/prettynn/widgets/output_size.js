// Padding, stride and dilation vs output size (prettynn.widgets.output_size.OutputSizeExplorer).
// One ES module, no imports: it draws every window position along one axis, counts the taps that read
// each position of the padded input (marking the input positions no tap reads), and, when asked,
// evaluates the output-size formula, all in the browser.
// Traits: input_size (1..16), kernel_size (1..7), stride (1..4), padding (0..4), dilation (1..3), same (bool),
// show_formula (bool).
// prettynn.widgets.esm puts common.js (the helpers h, s, baseCss, outputSize, ...) before this file.

const COLOR = {
  ...INK,
  input: "#0072B2",     // Okabe-Ito blue: input positions and windows that fit
  bad: "#D55E00",       // Okabe-Ito vermillion: a window that sticks out, positions in no window
  badText: "#A63F00",
  pad: "#E6E6E6",
  grid: "#BBBBBB",
};
const WIDTH = 720;
const LEFT = 96;         // room for the row labels
const ROW = 18;

const CSS = baseCss(".pnn-os", COLOR.input) + `
.pnn-os .pnn-controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 4px 14px; }
.pnn-os .pnn-row { grid-template-columns: 6.2em 1fr 2.6em; }
`;

// ---- the arithmetic, as derived in the chapter ----------------------------------------------------

function arithmetic({ n, k, s, p, d, same }) {
  const span = d * (k - 1) + 1;
  const total = same ? d * (k - 1) : 2 * p;
  const before = same ? Math.floor(total / 2) : p;
  const after = total - before;
  const length = n + total;
  const numerator = length - span;
  const size = outputSize(length, k, s, 0, d); // the padding is already in length
  const rejected = same && s > 1;
  // reads[x]: how many (window i, tap a) pairs read position x = s*i + d*a of the padded input.
  const reads = new Array(Math.max(length, 0)).fill(0);
  if (!rejected) for (let i = 0; i < size; i++) for (let t = 0; t < k; t++) reads[i * s + t * d] += 1;
  const unreadInputs = [], unreadPadding = [];
  reads.forEach((count, x) => {
    if (count > 0 || rejected || size === 0) return;
    (x >= before && x < before + n ? unreadInputs : unreadPadding).push(x);
  });
  const remainder = numerator >= 0 ? numerator % s : 0;
  // Unread positions inside some window's span were skipped between its taps (dilation).
  const insideWindow = (x) => { for (let i = 0; i < size; i++) if (x >= i * s && x < i * s + span) return true; return false; };
  const betweenTaps = unreadInputs.concat(unreadPadding).filter(insideWindow);
  return { span, total, before, after, length, numerator, size, rejected, reads, unreadInputs,
    unreadPadding, remainder, betweenTaps, common: gcd(s, d) };
}

function gcd(a, b) { return b === 0 ? a : gcd(b, a % b); }

function list(values) {
  return values.length <= 8 ? values.join(", ") : `${values.slice(0, 7).join(", ")}, \u2026 (${values.length} in all)`;
}

function render({ model, el }) {
  const id = uniqueId("pnn-os");
  el.classList.add("prettynn-widget");
  el.dataset.widget = "output-size";

  const root = h("div", { class: "pnn-os" });
  const sliders = {};
  const rows = [["input_size", "input n", 1, 16], ["kernel_size", "kernel k", 1, 7], ["stride", "stride s", 1, 4],
    ["padding", "padding p", 0, 4], ["dilation", "dilation d", 1, 3]].map(([name, label, min, max]) => {
    const slider = labelledSlider(`${id}-${name}`, label, min, max);
    slider.input.addEventListener("input", () => { model.set(name, parseInt(slider.input.value, 10)); model.save_changes(); });
    sliders[name] = slider;
    return slider.row;
  });
  const { input: same, row: sameRow } = labelledCheckbox(`${id}-same`, "padding='same'");
  same.addEventListener("change", () => { model.set("same", same.checked); model.save_changes(); });
  const { input: formula, row: formulaRow } = labelledCheckbox(`${id}-formula`, "show the formula");
  formula.addEventListener("change", () => { model.set("show_formula", formula.checked); model.save_changes(); });
  rows.push(sameRow, formulaRow);
  const hint = h("p", { class: "pnn-hint" }, [
    "Keyboard: Tab to a slider and use the arrow keys; Space toggles a checkbox. Each row below is one window: ",
    "filled squares are the positions its taps read, the line its span. Under the padded input, the number of ",
    "taps that read each position.",
  ]);
  const svg = picture();
  root.append(h("style", {}, [CSS]), h("div", { class: "pnn-controls" }, rows), hint, svg);
  el.replaceChildren(root);

  function redraw() {
    const start = performance.now();
    const v = { n: model.get("input_size"), k: model.get("kernel_size"), s: model.get("stride"),
      p: model.get("padding"), d: model.get("dilation"), same: model.get("same") };
    const a = arithmetic(v);
    for (const [name, key] of [["input_size", "n"], ["kernel_size", "k"], ["stride", "s"], ["padding", "p"], ["dilation", "d"]]) {
      sliders[name].input.value = String(v[key]);
      sliders[name].out.textContent = String(v[key]);
    }
    sliders.padding.input.disabled = v.same;
    sliders.padding.out.textContent = v.same ? `${a.before}+${a.after}` : String(v.p);
    same.checked = v.same;

    formula.checked = Boolean(model.get("show_formula"));

    svg.replaceChildren();
    const cell = Math.min(26, Math.floor((WIDTH - LEFT - 10) / Math.max(a.length, a.span, 1)));
    let y = 18;
    const padText = v.same ? `${a.total}` : `2\u00b7${v.p}`;
    const lines = [];
    if (formula.checked) {
      lines.push(`n_out = \u230a(n + ${v.same ? "total padding" : "2p"} \u2212 d(k \u2212 1) \u2212 1) / s\u230b + 1` +
        ` = \u230a(${v.n} + ${padText} \u2212 ${v.d}\u00b7${v.k - 1} \u2212 1) / ${v.s}\u230b + 1` +
        (a.numerator >= 0 ? ` = \u230a${a.numerator} / ${v.s}\u230b + 1 = ${a.size}` : ` = ${minusSigns(String(Math.floor(a.numerator / v.s) + 1))}`));
    } else if (!a.rejected && a.numerator >= 0) {
      lines.push(`Output size: ${a.size} window${a.size > 1 ? "s" : ""} fit in the ${a.length} positions of the padded input.`);
    } else {
      lines.push("Output size: no output.");
    }
    let alarm = false;
    if (a.rejected) {
      lines.push("torch rejects padding='same' with a stride > 1 (a RuntimeError):");
      lines.push("with a stride, 'same' is ambiguous (TensorFlow's gives \u2308n/s\u2309 outputs, not n).");
      alarm = true;
    } else if (a.numerator < 0) {
      lines.push(`No window fits: a window spans ${a.span} positions, the padded input has only ${a.length}.`);
      lines.push("torch raises a RuntimeError (kernel size can't be greater than actual input size).");
      alarm = true;
    } else {
      lines.push(a.remainder === 0
        ? "The last window ends at the last position of the padded input."
        : `The next window (dashed) would stick out: ${a.remainder > 1 ? `the last ${a.remainder} positions` : "the last position"} ` +
          `of the padded input ${a.remainder > 1 ? "lie" : "lies"} after the last window.`);
      if (a.unreadInputs.length === 0) {
        lines.push("Every input position is read by at least one tap" +
          (a.unreadPadding.length ? `; ${a.unreadPadding.length} padding zero${a.unreadPadding.length > 1 ? "s are" : " is"} read by none (no loss).` : "."));
      } else {
        lines.push(`Input positions read by no tap: ${list(a.unreadInputs.map((x) => x - a.before))} ` +
          "(red: they do not affect the output; their gradient is 0).");
      }
      if (a.size > 1 && v.s > a.span) {
        const gap = v.s - a.span;
        lines.push(`Gaps between windows: the stride ${v.s} exceeds the window's span ${a.span}, ` +
          `so ${gap} position${gap > 1 ? "s are" : " is"} skipped between each two.`);
      }
      if (a.betweenTaps.length) {
        lines.push(`Gaps between taps: dilation ${v.d} skips positions inside a window that no other window reads` +
          (a.common > 1 && a.size > 1 ? ";" : "."));
        if (a.common > 1 && a.size > 1) lines.push(`stride and dilation share the factor ${a.common}, so only multiples of ${a.common} are read.`);
      }
    }
    if (v.same && !a.rejected) {
      lines.push(`'same': total padding d(k \u2212 1) = ${a.total}, ${a.before} before and ${a.after} after` +
        (a.after > a.before ? " (the extra one at the end, as torch does)." : "."));
    }
    lines.forEach((line, i) => {
      s(svg, "text", { x: 0, y, "font-size": 13, fill: alarm && i > 0 ? COLOR.badText : COLOR.text,
        "font-weight": i === 0 || (alarm && i > 0) ? 700 : 400 }, line);
      y += 17;
    });
    y += 16;

    // The padded input, and under it the number of taps that read each position.
    const x0 = LEFT;
    const live = a.size > 0 && !a.rejected;
    s(svg, "text", { x: 0, y: y + cell / 2 + 4, "font-size": 13, fill: COLOR.text }, "padded input");
    for (let i = 0; i < a.length; i++) {
      const isPad = i < a.before || i >= a.before + v.n;
      const unread = live && a.reads[i] === 0 && !isPad;
      const rect = s(svg, "rect", { x: x0 + i * cell, y, width: cell, height: cell, fill: isPad ? COLOR.pad : "#FFFFFF",
        stroke: unread ? COLOR.bad : COLOR.grid, "stroke-width": unread ? 2.5 : 1 });
      rect.dataset.position = String(i);
      rect.dataset.reads = String(live ? a.reads[i] : 0);
      if (cell >= 16) {
        s(svg, "text", { x: x0 + (i + 0.5) * cell, y: y + cell / 2 + 4, "text-anchor": "middle", "font-size": 11,
          fill: isPad ? "#777777" : COLOR.text }, isPad ? "0" : String(i - a.before));
      }
      if (live && cell >= 12) {
        s(svg, "text", { x: x0 + (i + 0.5) * cell, y: y + cell + 13, "text-anchor": "middle", "font-size": 11,
          fill: a.reads[i] === 0 ? COLOR.badText : COLOR.muted, "font-weight": a.reads[i] === 0 ? 700 : 400 }, String(a.reads[i]));
      }
    }
    s(svg, "text", { x: 0, y: y + cell + 13, "font-size": 11, fill: COLOR.muted }, live ? "taps reading it" : "");
    y += cell + 22;
    s(svg, "text", { x: x0, y: y + 10, "font-size": 11, fill: COLOR.muted },
      `grey: ${a.total} padding zeros; numbers: the ${v.n} input positions${live && a.unreadInputs.length ? "; red outline: read by no tap" : ""}`);
    y += 22;

    // One row per window, and the first window that does not fit.
    const windows = a.rejected ? 0 : a.size;
    const tryWindow = (index, fits) => {
      const startAt = index * v.s;
      const colour = fits ? COLOR.input : COLOR.bad;
      s(svg, "text", { x: 0, y: y + ROW / 2 + 4, "font-size": 12, fill: fits ? COLOR.text : COLOR.badText },
        fits ? `output ${index}` : "not computed");
      const xa = x0 + (startAt + 0.5) * cell, xb = x0 + (startAt + a.span - 0.5) * cell;
      s(svg, "line", { x1: xa, x2: xb, y1: y + ROW / 2, y2: y + ROW / 2, stroke: colour, "stroke-width": 2,
        "stroke-dasharray": fits ? "" : "4 3" });
      for (let t = 0; t < v.k; t++) {
        const at = startAt + t * v.d;
        s(svg, "rect", { x: x0 + at * cell + cell * 0.2, y: y + 3, width: cell * 0.6, height: ROW - 6,
          fill: fits ? colour : "#FFFFFF", stroke: colour, "stroke-width": 1.5 });
      }
      y += ROW;
    };
    const windowsTop = y;
    for (let i = 0; i < windows; i++) tryWindow(i, true);
    if (!a.rejected && windows * v.s < a.length) tryWindow(windows, false);
    if (y > windowsTop) {  // the end of the padded input, across the window rows
      s(svg, "line", { x1: x0 + a.length * cell, x2: x0 + a.length * cell, y1: windowsTop - 4, y2: y,
        stroke: COLOR.muted, "stroke-dasharray": "2 3" });
    }
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${y + 8}`);
    svg.dataset.outputSize = a.rejected || a.numerator < 0 ? "error" : String(a.size);
    svg.dataset.unreadInputs = a.unreadInputs.map((x) => x - a.before).join(",");
    svg.setAttribute("aria-label", `Input ${v.n}, kernel ${v.k}, stride ${v.s}, ` +
      `${v.same ? "padding same" : `padding ${v.p}`}, dilation ${v.d}: ` +
      (a.rejected ? "rejected by torch." : a.numerator < 0 ? "no output, rejected by torch." : `output size ${a.size}.`));
    el.dataset.redrawMs = String(performance.now() - start);
  }

  return redrawOnChange(model, el, ["input_size", "kernel_size", "stride", "padding", "dilation", "same", "show_formula"],
    redraw);
}

export default { render };
