// Where RequireJS finds the widget libraries: the book's own copies, next to this file.
// html-manager first asks RequireJS for a widget's module (anywidget), so no CDN is ever
// asked; and it loads its icon fonts from where RequireJS says its own modules live.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  requirejs.config({
    paths: {
      anywidget: here + "anywidget",
      "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, ""),
    },
  });
})();
