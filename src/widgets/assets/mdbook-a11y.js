/*
 * mdbook-a11y.js: fixes to mdBook 0.5's own page script and markup, found by axe-core
 * (docs/accessibility.md). Independent of the token checker; shipped inside hubcheck.js so that
 * every book with the plugin gets them. Each fix says what it fixes, so it can be proposed to
 * mdBook as it is. No inline script (the pages' Content-Security-Policy allows none of ours).
 */
(function () {
  "use strict";

  /*
   * The sidebar toggle is a <label for="mdbook-sidebar-toggle-anchor"> carrying aria-label and
   * aria-expanded, which a label may not carry (axe aria-allowed-attr, aria-prohibited-attr), and
   * which Tab never reaches (the checkbox it toggles is display: none). As a button it may carry
   * both, and Enter or Space toggles the sidebar as a click does.
   */
  function sidebarToggleIsAButton() {
    var toggle = document.getElementById("mdbook-sidebar-toggle");
    var checkbox = document.getElementById("mdbook-sidebar-toggle-anchor");
    if (!toggle || !checkbox || toggle.tagName !== "LABEL") {
      return;
    }
    toggle.setAttribute("role", "button");
    toggle.tabIndex = 0;
    if (!toggle.hasAttribute("aria-expanded")) {
      toggle.setAttribute("aria-expanded", checkbox.checked ? "true" : "false");
    }
    toggle.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggle.click();
      }
    });
  }

  /*
   * A code block wider than the page scrolls, but only a mouse can scroll it (axe
   * scrollable-region-focusable): such a block joins the tab order, so the arrow keys scroll it.
   * Blocks that fit stay out of it, and a block that stops or starts scrolling (window resized)
   * is updated.
   */
  function scrollingCodeIsFocusable() {
    var blocks = document.querySelectorAll("pre > code");
    var update = function (code) {
      var scrolls = code.scrollWidth > code.clientWidth + 1 || code.scrollHeight > code.clientHeight + 1;
      if (scrolls && !code.hasAttribute("tabindex")) {
        code.tabIndex = 0;
        code.setAttribute("data-a11y-scroll", "");
      } else if (!scrolls && code.hasAttribute("data-a11y-scroll")) {
        code.removeAttribute("tabindex");
        code.removeAttribute("data-a11y-scroll");
      }
    };
    Array.prototype.forEach.call(blocks, update);
    if (typeof ResizeObserver === "function") {
      var observer = new ResizeObserver(function (entries) {
        entries.forEach(function (entry) {
          update(entry.target);
        });
      });
      Array.prototype.forEach.call(blocks, function (code) {
        observer.observe(code);
      });
    }
  }

  function start() {
    sidebarToggleIsAButton();
    scrollingCodeIsFocusable();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
