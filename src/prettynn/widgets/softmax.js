// Softmax and cross-entropy explorer (prettynn.widgets.softmax.SoftmaxExplorer).
// One ES module, no imports: it draws with SVG and handles every interaction in the browser,
// so it works live in JupyterLab and from saved widget state on a static page.
// Traits: logits (list of K >= 2 floats), target (int in 0..K-1), scale (float > 0).
// JavaScript numbers are IEEE float64, as NumPy's: Math.exp(710) is Infinity here too.
// prettynn.widgets.esm puts common.js (the helpers h, s, baseCss, outputSize, ...) before this file.

const COLOR = {
  ...INK,
  prob: "#0072B2",      // Okabe-Ito blue: probabilities
  neg: "#D55E00",       // Okabe-Ito vermillion: negative gradient, overflow
  negText: "#A63F00",   // darker vermillion for text (contrast >= 4.5 on white)
  pos: "#8A8A8A",       // grey: positive gradient
  grid: "#E3E3E3",
  axis: "#444444",
  band: "#EFEFEF",      // the target class's column
};
const LN_MAX = Math.log(Number.MAX_VALUE); // 709.78: exp(u) is Infinity above it
const LOGIT_MIN = -10, LOGIT_MAX = 10, LOGIT_STEP = 0.1;
const LOG_SCALE_MIN = 0, LOG_SCALE_MAX = 3; // scale from 10^0 = 1 to 10^3 = 1000

const CSS = baseCss(".pnn-sm", COLOR.prob) + `
.pnn-sm .pnn-controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(290px, 1fr)); gap: 8px 12px; }
.pnn-sm fieldset { border: 1px solid #D0D0D0; border-radius: 4px; margin: 0; padding: 4px 10px 8px; min-width: 0; }
.pnn-sm legend { font-weight: 600; font-size: 14px; padding: 0 4px; }
.pnn-sm .pnn-row { grid-template-columns: 5.6em 1fr 3.6em; }
.pnn-sm .pnn-radios { display: flex; flex-wrap: wrap; gap: 2px 14px; }
.pnn-sm .pnn-radios label { display: inline-flex; align-items: center; gap: 4px; padding: 2px 0; }
.pnn-sm input[type=radio] { accent-color: ${COLOR.prob}; margin: 0; width: 16px; height: 16px; }
.pnn-sm input:focus-visible { border-radius: 2px; }
.pnn-sm .pnn-ticks { display: flex; justify-content: space-between; font-size: 12px; color: ${COLOR.muted}; padding: 0 2px; }
.pnn-sm svg { overflow: visible; }
.pnn-sm .pnn-hit { cursor: pointer; }
`;

// ---- the two computations, exactly as written in the chapter --------------------------------

function naiveSoftmax(u, t) {
  const e = u.map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / sum);
  const loss = -Math.log(p[t]);
  return { input: u, e, sum, p, loss, grad: p.map((x, k) => x - (k === t ? 1 : 0)) };
}

function shiftedSoftmax(u, t) {
  const m = Math.max(...u);
  const input = u.map((x) => x - m);
  const e = input.map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / sum);
  const loss = -(u[t] - m - Math.log(sum));
  return { input, e, sum, p, loss, m, grad: p.map((x, k) => x - (k === t ? 1 : 0)) };
}

// ---- formatting -------------------------------------------------------------------------------

function fmt(v, digits = 3) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "\u2212inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  const s = a >= 1e5 || a < 1e-3
    ? v.toExponential(1).replace("e+", "e")
    : String(Number(v.toPrecision(digits)));
  return minusSigns(s);
}

function fmtScale(scale) {
  return scale < 10 ? scale.toFixed(2) : scale < 100 ? scale.toFixed(1) : scale.toFixed(0);
}

// ---- the view ---------------------------------------------------------------------------------

function render({ model, el }) {
  const id = uniqueId("pnn-sm");
  el.classList.add("prettynn-widget");
  el.dataset.widget = "softmax-explorer";

  const root = h("div", { class: "pnn-sm" });
  const logitBox = h("fieldset", {}, [h("legend", {}, ["Logits z of one example"])]);
  const targetBox = h("fieldset", {}, [h("legend", {}, ["Target class"])]);
  const radios = h("div", { class: "pnn-radios", role: "radiogroup", "aria-label": "target class" });
  targetBox.append(radios);

  const { input: scaleInput, out: scaleOut, row: scaleRow } = labelledSlider(`${id}-scale`, "s (log)",
    LOG_SCALE_MIN, LOG_SCALE_MAX, 0.01, "scale s that multiplies the logits (logarithmic, 1 to 1000)");
  const scaleBox = h("fieldset", {}, [
    h("legend", {}, ["Scale s, logits u = s \u00b7 z"]),
    scaleRow,
    h("div", { class: "pnn-row", "aria-hidden": "true" }, [
      h("span"), h("div", { class: "pnn-ticks" }, ["1", "10", "100", "1000"].map((t) => h("span", {}, [t]))), h("span"),
    ]),
  ]);
  const side = h("div", { style: "display: grid; gap: 8px; align-content: start" }, [targetBox, scaleBox]);
  const hint = h("p", { class: "pnn-hint" }, [
    "Keyboard: Tab to a slider, then arrow keys (Page Up/Down for big steps); arrow keys move between target classes. ",
    "Clicking a column also picks the target.",
  ]);
  const svg = picture();
  root.append(h("style", {}, [CSS]), h("div", { class: "pnn-controls" }, [logitBox, side]), hint, svg);
  el.replaceChildren(root);

  let logitInputs = [], logitOuts = [], radioInputs = [];

  function setLogit(k, value) {
    const z = model.get("logits").slice();
    z[k] = value;
    model.set("logits", z);
    model.save_changes();
  }
  function setTarget(k) {
    if (k === model.get("target")) return;
    model.set("target", k);
    model.save_changes();
  }

  function buildClassControls(K) {
    for (const n of [...logitBox.children].slice(1)) n.remove();
    radios.replaceChildren();
    logitInputs = []; logitOuts = []; radioInputs = [];
    for (let k = 0; k < K; k++) {
      const { input, out, row } = labelledSlider(`${id}-z${k}`, `z${k} class ${k}`, LOGIT_MIN, LOGIT_MAX, LOGIT_STEP,
        `logit z${k} of class ${k}`);
      input.addEventListener("input", () => setLogit(k, parseFloat(input.value)));
      logitBox.append(row);
      logitInputs.push(input); logitOuts.push(out);

      const radio = h("input", { type: "radio", name: `${id}-target`, value: String(k), "aria-label": `target class ${k}` });
      radio.addEventListener("change", () => { if (radio.checked) setTarget(k); });
      radios.append(h("label", {}, [radio, `class ${k}`]));
      radioInputs.push(radio);
    }
  }

  scaleInput.addEventListener("input", () => {
    const scale = Number(Math.pow(10, parseFloat(scaleInput.value)).toPrecision(4));
    model.set("scale", scale);
    model.save_changes();
  });

  function syncControls(z, t, scale) {
    if (logitInputs.length !== z.length) buildClassControls(z.length);
    z.forEach((v, k) => {
      const input = logitInputs[k];
      // Widen a slider's range if Python set a logit outside -10..10.
      input.min = String(Math.min(LOGIT_MIN, Math.floor(v)));
      input.max = String(Math.max(LOGIT_MAX, Math.ceil(v)));
      if (parseFloat(input.value) !== v) input.value = String(v);
      const onGrid = Math.abs(v * 10 - Math.round(v * 10)) < 1e-9;
      logitOuts[k].textContent = v.toFixed(onGrid ? 1 : 2).replace("-", "\u2212");
    });
    radioInputs.forEach((r, k) => { r.checked = k === t; });
    const logScale = Math.log10(scale);
    scaleInput.min = String(Math.min(LOG_SCALE_MIN, logScale));
    scaleInput.max = String(Math.max(LOG_SCALE_MAX, logScale));
    if (Math.abs(parseFloat(scaleInput.value) - logScale) > 0.005) scaleInput.value = String(logScale);
    scaleInput.setAttribute("aria-valuetext", `scale ${fmtScale(scale)}`);
    scaleOut.textContent = `\u00d7${fmtScale(scale)}`;
  }

  // ---- drawing ----

  const W = 700, PANEL_W = 335, GAP = 30, TOP = 70;
  const LEFT = 72;          // gutter of a panel: row labels, y-axis ticks and title
  const PROB_TOP = 118, PROB_H = 130, GRAD_TOP = 384, GRAD_H = 110;
  const PANEL_H = GRAD_TOP + GRAD_H + 20;  // room for the label under a bar at -1

  function drawLegend(g) {
    let x = 0;
    const y = 14;
    const item = (draw, label, width) => { draw(x); s(g, "text", { x: x + 20, y: y + 4.5, "font-size": 13, fill: COLOR.text }, label); x += width; };
    item((x0) => s(g, "rect", { x: x0, y: y - 7, width: 14, height: 14, fill: COLOR.prob }), "probability p", 118);
    item((x0) => s(g, "rect", { x: x0, y: y - 7, width: 14, height: 14, fill: COLOR.pos }), "gradient > 0", 112);
    item((x0) => s(g, "rect", { x: x0, y: y - 7, width: 14, height: 14, fill: COLOR.neg }), "gradient < 0", 112);
    item((x0) => s(g, "rect", { x: x0, y: y - 7, width: 14, height: 14, fill: COLOR.band, stroke: "#BBBBBB" }), "target class", 106);
    item((x0) => s(g, "rect", { x: x0 + 1, y: y - 6, width: 12, height: 12, fill: COLOR.neg, "fill-opacity": 0.08,
      stroke: COLOR.neg, "stroke-width": 1.5, "stroke-dasharray": "3 2" }), "not finite (NaN, inf)", 160);
  }

  function status(naive, u, t) {
    const maxU = Math.max(...u);
    if (naive.e.some((x) => x === Infinity)) {
      return [true, `Naive: max u = ${fmt(maxU, 4)} > ln(largest float64) \u2248 709.78, so exp(u) = inf and inf / inf = NaN.`,
        `Shifted: u \u2212 max u \u2264 0, so every exp is in (0, 1] and the sum is at least 1: no overflow.`];
    }
    if (naive.sum === 0) {
      return [true, `Naive: every u < \u2212745, so every exp(u) underflows to 0 and p = 0 / 0 = NaN.`,
        `Shifted: the largest term is exp(0) = 1, so the sum is at least 1.`];
    }
    if (!Number.isFinite(naive.loss)) {
      return [true, `Naive: exp(u${t}) underflows to 0 (u${t} = ${fmt(u[t], 4)}), so p${t} = 0 and \u2212log 0 = inf.`,
        `Shifted: the loss \u2212(u${t} \u2212 m \u2212 log \u03a3) never takes the log of p, so it stays finite.`];
    }
    return [false, `Every exp(u) is a finite float64, so both computations agree. exp(u) overflows once u > 709.78:`,
      `raise the scale s to push u = s \u00b7 z past it.`];
  }

  function barLabel(g, x, y, text, color, weight = 400) {
    s(g, "text", { x, y, "text-anchor": "middle", "font-size": 13, fill: color, "font-weight": weight }, text);
  }

  function notFinite(g, x, w, top, height, v) {
    s(g, "rect", { x: x + 2, y: top + 1, width: w - 4, height: height - 2, fill: COLOR.neg, "fill-opacity": 0.08,
      stroke: COLOR.neg, "stroke-width": 1.5, "stroke-dasharray": "4 3" });
    s(g, "text", { x: x + w / 2, y: top + height / 2 + 5, "text-anchor": "middle", "font-size": 14,
      "font-weight": 700, fill: COLOR.negText }, fmt(v));
  }

  function drawPanel(g, x0, result, t, naive) {
    const K = result.p.length;
    const plotW = PANEL_W - LEFT - 4, slot = plotW / K, barW = Math.min(44, slot * 0.62);
    const cx = (k) => x0 + LEFT + slot * (k + 0.5);
    const labelsFit = slot >= 40, longLabels = slot >= 62;
    const px = (v) => PROB_TOP + PROB_H * (1 - v);
    const gy = (v) => GRAD_TOP + GRAD_H * (1 - v) / 2;
    const bad = !Number.isFinite(result.loss) || result.p.some((v) => !Number.isFinite(v));

    s(g, "text", { x: x0, y: 14, "font-size": 15, "font-weight": 700, fill: bad ? COLOR.negText : COLOR.text },
      naive ? "Naive softmax" : "Max-shifted softmax");
    s(g, "text", { x: x0, y: 33, "font-size": 13, fill: COLOR.muted },
      naive ? "p = exp(u) / \u03a3 exp(u)" : `p = exp(u \u2212 m) / \u03a3 exp,  m = max u = ${fmt(result.m, 4)}`);

    // Rows of numbers: the exponent and its exp, per class.
    const rows = naive ? ["u", "exp(u)"] : ["u \u2212 m", "exp(u\u2212m)"];
    [result.input, result.e].forEach((values, r) => {
      const y = 56 + r * 19;
      s(g, "text", { x: x0, y, "font-size": 13, fill: COLOR.muted }, rows[r]);
      if (labelsFit) values.forEach((v, k) => {
        const finite = Number.isFinite(v);
        barLabel(g, cx(k), y, fmt(v, r === 0 ? 4 : 3), finite ? COLOR.text : COLOR.negText, finite ? 400 : 700);
      });
      else {  // too many classes to list each value: give the range
        const finite = values.every(Number.isFinite);
        s(g, "text", { x: x0 + LEFT, y, "font-size": 13, fill: finite ? COLOR.text : COLOR.negText, "font-weight": finite ? 400 : 700 },
          `from ${fmt(Math.min(...values), 4)} to ${fmt(Math.max(...values), 4)}`);
      }
    });
    const sumFinite = Number.isFinite(result.sum) && result.sum > 0;
    s(g, "text", { x: x0, y: 94, "font-size": 13, fill: COLOR.muted }, naive ? "\u03a3 exp(u)" : "\u03a3 exp");
    s(g, "text", { x: x0 + LEFT, y: 94, "font-size": 13, fill: sumFinite ? COLOR.text : COLOR.negText, "font-weight": sumFinite ? 400 : 700 },
      `${fmt(result.sum, 4)}${result.sum === Infinity ? "  (overflow)" : result.sum === 0 ? "  (underflow)" : ""}`);

    // Target column band behind both charts.
    s(g, "rect", { x: x0 + LEFT + slot * t + 1, y: PROB_TOP - 18, width: slot - 2, height: GRAD_TOP + GRAD_H - PROB_TOP + 22, fill: COLOR.band, rx: 3 });

    // Probability chart: axis 0..1.
    s(g, "text", { transform: `translate(${x0 + 12},${PROB_TOP + PROB_H / 2}) rotate(-90)`, "text-anchor": "middle", "font-size": 13, fill: COLOR.muted }, "probability");
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      s(g, "line", { x1: x0 + LEFT, x2: x0 + LEFT + plotW, y1: px(v), y2: px(v), stroke: v === 0 ? COLOR.axis : COLOR.grid, "stroke-width": 1 });
      if (v * 2 === Math.round(v * 2)) s(g, "text", { x: x0 + LEFT - 6, y: px(v) + 4.5, "text-anchor": "end", "font-size": 13, fill: COLOR.muted }, String(v));
    }
    result.p.forEach((v, k) => {
      const x = cx(k) - barW / 2;
      if (!Number.isFinite(v)) { notFinite(g, x, barW, PROB_TOP, PROB_H, v); return; }
      s(g, "rect", { x, y: px(v), width: barW, height: PROB_H * v, fill: COLOR.prob });
      if (labelsFit) barLabel(g, cx(k), px(v) - 5, fmt(v), COLOR.text);
    });
    result.p.forEach((_, k) => {
      barLabel(g, cx(k), PROB_TOP + PROB_H + 17, longLabels ? `class ${k}` : String(k), COLOR.text, k === t ? 700 : 400);
    });
    barLabel(g, cx(t), PROB_TOP + PROB_H + 33, "target", COLOR.text, 700);

    // Loss.
    const lossOk = Number.isFinite(result.loss);
    const lossY = PROB_TOP + PROB_H + 64;
    const lossText = s(g, "text", { x: x0, y: lossY, "font-size": 15, fill: COLOR.text });
    const tspan = (text, attrs = {}) => s(lossText, "tspan", attrs, text);
    tspan("loss = ", { "font-weight": 700 });
    tspan(lossOk ? fmt(result.loss, 4) : result.loss === Infinity ? "Infinity" : fmt(result.loss),
      { "font-weight": 700, fill: lossOk ? COLOR.text : COLOR.negText });
    tspan(lossOk ? " nats" : "  (not finite)", { fill: lossOk ? COLOR.muted : COLOR.negText });
    s(g, "text", { x: x0, y: lossY + 19, "font-size": 13, fill: COLOR.muted },
      naive ? `\u2212log p${t} = \u2212log(${fmt(result.p[t], 4)})`
        : `\u2212(u${t} \u2212 m \u2212 log \u03a3) = \u2212(${fmt(result.input[t], 4)} \u2212 log ${fmt(result.sum, 4)})`);

    // Gradient chart: axis -1..1 with a zero line.
    s(g, "text", { x: x0, y: GRAD_TOP - 22, "font-size": 13, fill: COLOR.muted }, "gradient \u2202loss/\u2202u = p \u2212 onehot(target)");
    s(g, "text", { transform: `translate(${x0 + 12},${GRAD_TOP + GRAD_H / 2}) rotate(-90)`, "text-anchor": "middle", "font-size": 13, fill: COLOR.muted }, "gradient");
    for (const v of [-1, -0.5, 0, 0.5, 1]) {
      s(g, "line", { x1: x0 + LEFT, x2: x0 + LEFT + plotW, y1: gy(v), y2: gy(v), stroke: COLOR.grid, "stroke-width": 1 });
      if (v !== 0.5 && v !== -0.5) s(g, "text", { x: x0 + LEFT - 6, y: gy(v) + 4.5, "text-anchor": "end", "font-size": 13, fill: COLOR.muted }, fmt(v));
    }
    result.grad.forEach((v, k) => {
      const x = cx(k) - barW / 2;
      if (!Number.isFinite(v)) { notFinite(g, x, barW, GRAD_TOP, GRAD_H, v); return; }
      const y0 = gy(Math.max(v, 0)), y1 = gy(Math.min(v, 0));
      s(g, "rect", { x, y: y0, width: barW, height: y1 - y0, fill: v < 0 ? COLOR.neg : COLOR.pos });
      if (labelsFit) barLabel(g, cx(k), v >= 0 ? y0 - 5 : y1 + 15, fmt(v), COLOR.text);
    });
    s(g, "line", { x1: x0 + LEFT, x2: x0 + LEFT + plotW, y1: gy(0), y2: gy(0), stroke: COLOR.axis, "stroke-width": 1.5 });

    // Click a column to make it the target.
    for (let k = 0; k < K; k++) {
      const hit = s(g, "rect", { class: "pnn-hit", x: x0 + LEFT + slot * k, y: PROB_TOP - 18, width: slot,
        height: GRAD_TOP + GRAD_H - PROB_TOP + 22, fill: "transparent" });
      s(hit, "title", {}, `make class ${k} the target`);
      hit.addEventListener("click", () => setTarget(k));
    }
  }

  function redraw() {
    const start = performance.now();
    const z = model.get("logits"), scale = model.get("scale");
    const t = Math.min(Math.max(model.get("target"), 0), z.length - 1);
    syncControls(z, t, scale);

    const u = z.map((v) => scale * v);
    const naive = naiveSoftmax(u, t), shifted = shiftedSoftmax(u, t);
    const [alarm, line1, line2] = status(naive, u, t);

    svg.replaceChildren();
    svg.setAttribute("viewBox", `-4 -4 ${W + 8} ${TOP + PANEL_H + 8}`);
    drawLegend(s(svg, "g"));
    const note = s(svg, "g", { transform: "translate(0, 42)" });
    s(note, "text", { x: 0, y: 0, "font-size": 13, fill: alarm ? COLOR.negText : COLOR.muted, "font-weight": alarm ? 700 : 400 }, line1);
    s(note, "text", { x: 0, y: 18, "font-size": 13, fill: COLOR.muted }, line2);
    s(svg, "line", { x1: PANEL_W + GAP / 2, x2: PANEL_W + GAP / 2, y1: TOP, y2: TOP + PANEL_H, stroke: COLOR.grid });
    drawPanel(s(svg, "g", { transform: `translate(0, ${TOP})` }), 0, naive, t, true);
    drawPanel(s(svg, "g", { transform: `translate(0, ${TOP})` }), PANEL_W + GAP, shifted, t, false);
    svg.setAttribute("aria-label",
      `Softmax of u = ${fmtScale(scale)} times the logits, target class ${t}. ` +
      `Naive: probabilities ${naive.p.map((v) => fmt(v)).join(", ")}; loss ${fmt(naive.loss, 4)}. ` +
      `Max-shifted: probabilities ${shifted.p.map((v) => fmt(v)).join(", ")}; loss ${fmt(shifted.loss, 4)}.`);

    el.dataset.redrawMs = String(performance.now() - start);
  }

  return redrawOnChange(model, el, ["logits", "target", "scale"], redraw);
}

export default { render };
