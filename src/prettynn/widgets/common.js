// What every widget's ES module shares: DOM helpers, the base CSS and torch's output-size rule.
// prettynn.widgets.esm(name) sends this file followed by <name>.js, so each widget is still one
// self-contained ES module with no imports. This file exports nothing (the widget's module has the
// module's one `export default`), and no widget module may declare a top-level name declared here.

/** The SVG namespace, as the HTML parser assigns it (so no module names a URL). */
const SVG = (() => { const d = document.createElement("div"); d.innerHTML = "<svg></svg>"; return d.firstChild.namespaceURI; })();

/** The colours of text: body text and secondary text (both with contrast >= 4.5 on white). */
const INK = { text: "#222222", muted: "#555555" };

let widgetCount = 0;

/** An id prefix that no other widget on the page has, e.g. "pnn-sm-1-x7k2qa" for prefix "pnn-sm". */
function uniqueId(prefix) {
  return `${prefix}-${++widgetCount}-${Math.random().toString(36).slice(2, 8)}`;
}

/** An HTML element with attributes and children (nodes or strings). */
function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

/** An SVG element with attributes and, optionally, text, appended to `parent`. */
function s(parent, tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

/** An empty SVG picture (role img), for the widget to fill on every redraw. */
function picture() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("role", "img");
  return svg;
}

/** A labelled range slider with its value beside it: { input, out, row }, row a `.pnn-row` div. */
function labelledSlider(id, label, min, max, step = 1, ariaLabel = label) {
  const input = h("input", { type: "range", id, min, max, step, "aria-label": ariaLabel });
  const out = h("output", { for: id });
  return { input, out, row: h("div", { class: "pnn-row" }, [h("label", { for: id }, [label]), input, out]) };
}

/** A checkbox followed by its label: { input, row }, row a `.pnn-row.pnn-check` div. */
function labelledCheckbox(id, label) {
  const input = h("input", { type: "checkbox", id });
  return { input, row: h("div", { class: "pnn-row pnn-check" }, [input, h("label", { for: id }, [label])]) };
}

/**
 * Calls `redraw` now and on every change of the traits named; returns render's clean-up, which stops
 * listening, calls `stop` (e.g. to end an animation) and empties `el`.
 */
function redrawOnChange(model, el, traits, redraw, stop = () => {}) {
  const events = traits.map((name) => `change:${name}`);
  for (const event of events) model.on(event, redraw);
  redraw();
  return () => {
    stop();
    for (const event of events) model.off(event, redraw);
    el.replaceChildren();
  };
}

/** `text` with every hyphen-minus typeset as a minus sign. */
function minusSigns(text) {
  return text.replace(/-/g, "\u2212");
}

/** The CSS every widget shares, for its root element's selector `root` and its accent colour `accent`. */
function baseCss(root, accent) {
  return `
${root} { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: ${INK.text}; background: #fff; max-width: 720px; width: 100%; box-sizing: border-box;
  padding: 10px; border: 1px solid #D0D0D0; border-radius: 6px; }
${root} * { box-sizing: border-box; }
${root} label { white-space: nowrap; }
${root} select, ${root} button { font: inherit; }
${root} .pnn-row { display: grid; align-items: center; gap: 6px; }
${root} .pnn-row.pnn-check { grid-template-columns: auto 1fr; }
${root} output { font-variant-numeric: tabular-nums; text-align: right; }
${root} input[type=range] { width: 100%; margin: 4px 0; accent-color: ${accent}; }
${root} input[type=checkbox] { width: 16px; height: 16px; accent-color: ${accent}; }
${root} :focus-visible { outline: 3px solid ${INK.text}; outline-offset: 2px; }
${root} .pnn-hint { font-size: 13px; color: ${INK.muted}; margin: 6px 0 0; }
${root} svg { display: block; width: 100%; height: auto; margin-top: 8px; }
${root} svg text { font-family: inherit; }
`;
}

/**
 * How many windows fit along one axis of `size` inputs, as torch counts them for convolution and
 * pooling: floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, rounded up instead of
 * down with ceilMode, where a last window must start inside the input or the left padding (torch
 * drops one that would start in the right padding, unless keepWindowInRightPadding, to draw it).
 * 0 where torch raises an error because no window fits.
 */
function outputSize(size, kernel, stride = 1, padding = 0, dilation = 1, ceilMode = false,
  keepWindowInRightPadding = false) {
  const reach = size + 2 * padding - dilation * (kernel - 1) - 1;
  const windows = (ceilMode ? Math.ceil(reach / stride) : Math.floor(reach / stride)) + 1;
  const lastStartsInRightPadding = ceilMode && (windows - 1) * stride >= size + padding;
  return Math.max(0, lastStartsInRightPadding && !keepWindowInRightPadding ? windows - 1 : windows);
}
