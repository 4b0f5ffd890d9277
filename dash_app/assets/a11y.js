// Dash 4 draws RadioItems and Checklist as role="listbox" holding role="option" labels
// around native radio buttons and checkboxes: interactive controls nested in interactive
// roles, which hides what they are from screen readers (axe-core: nested-interactive,
// aria-input-field-name). The native inputs in their labels, grouped by the fieldset and
// legend around them, are accessible as they are: the wrapping roles are taken off, now
// and whenever Dash draws more.
(function () {
  "use strict";
  function mend(root) {
    root.querySelectorAll(".dash-options-list[role]").forEach(function (list) {
      list.removeAttribute("role");
    });
    root.querySelectorAll(".dash-options-list-option[role]").forEach(function (option) {
      option.removeAttribute("role");
      option.removeAttribute("aria-selected");
    });
  }
  function start() {
    mend(document);
    new MutationObserver(function () { mend(document); }).observe(document.body, {
      subtree: true, childList: true, attributes: true,
      attributeFilter: ["role", "aria-selected"]});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
