// The console's addition to Netron's page (conversions/views_graph.py): `?node=NAME` reveals one
// layer once the graph is drawn. NAME is the node's own name or the name of a tensor it writes (a
// TFLite op has no name: the per-layer error table names a layer by the tensor it writes). The node
// is selected through Netron's view (what a click in its Find sidebar does), its properties open in
// the sidebar and it is scrolled into view. When no node matches, Netron's Find box opens with NAME
// in it. NAME only ever travels as a string: it is compared, never parsed or put into markup.
(function () {
  "use strict";

  var wanted = new URLSearchParams(window.location.search).get("node");
  if (!wanted) return;
  var deadline = Date.now() + 120000; // a large model takes a while to lay out
  var attempts = 0;

  // Netron names a TFLite value "<tensor name>\n<tensor index>"; other formats, the tensor name.
  function tensorName(value) {
    return value && typeof value.name === "string" ? value.name.replace(/\n\d+$/, "") : "";
  }

  function writes(node) {
    return (node.outputs || []).some(function (argument) {
      return (argument.value || []).some(function (value) {
        return tensorName(value) === wanted;
      });
    });
  }

  function find(graph) {
    var nodes = (graph && graph.nodes) || [];
    return (
      nodes.find(function (node) { return node.name === wanted; }) || nodes.find(writes) || null
    );
  }

  function openFind(view) {
    view.find();
    var query = document.querySelector("input.sidebar-find-query");
    if (!query) return;
    query.value = wanted;
    query.dispatchEvent(new Event("input"));
  }

  // The graph is drawn: Netron's view has a target (the drawn graph) and shows the default page.
  function drawn() {
    var view = window.__view__;
    if (!view || !view.target || !view.activeTarget) return null;
    return document.body.classList.contains("default") ? view : null;
  }

  function reveal() {
    var view = drawn();
    if (!view) {
      if (Date.now() < deadline) window.setTimeout(reveal, 100);
      return;
    }
    var node = find(view.activeTarget);
    if (!node) {
      openFind(view);
      return;
    }
    var target = view.target;
    var elements = target.activate(node, "sidebar");
    if (elements.length) {
      target.scrollTo(elements, "instant");
    } else if (++attempts < 20) {
      window.setTimeout(reveal, 100); // drawn, but the node's element not yet in the table
    }
  }

  reveal();
})();
