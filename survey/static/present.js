// The debrief presentation (templates/web/present.html): the arrow keys and Page Up/Page Down (what a
// presenter's clicker sends) follow the page's own previous/next links. The links work without this file;
// it is a static file because the Content-Security-Policy allows no inline script.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.defaultPrevented) {
    return;
  }
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) {
    return; // typing an action or choosing a focus: the keys belong to the field
  }
  var rel = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev" }[event.key];
  var link = rel ? document.querySelector('a[rel="' + rel + '"]') : null;
  if (link) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});
