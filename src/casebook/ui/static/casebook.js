// casebook's own script: the CSRF header on htmx requests, keyboard shortcuts, and the
// board's drag and drop. No inline script anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  // A live refresh that was asked for before a change of one's own finished must not draw
  // the page as it was before that change (the next refresh brings the news).
  var changing = 0;
  var changedAt = 0;
  document.addEventListener("htmx:beforeSend", function (event) {
    var xhr = event.detail.xhr;
    if (xhr) xhr.casebookSentAt = performance.now();
    var config = event.detail.requestConfig;
    if (config && config.verb !== "get") changing += 1;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.verb !== "get") {
      changing = Math.max(0, changing - 1);
      changedAt = performance.now();
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    var xhr = event.detail.xhr;
    if (!config || config.verb !== "get" || !/\/live(\/|\?|$)/.test(config.path || "")) return;
    if (changing > 0 || (xhr && xhr.casebookSentAt < changedAt)) event.detail.shouldSwap = false;
  });

  // A comment box empties once its comment is added.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) {
      form.reset();
    }
  });

  // A refused or failed request says so (htmx swaps nothing for an error status).
  document.addEventListener("htmx:responseError", function (event) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    flash.textContent = status === 404
      ? "Not found: it may have been deleted, or moved out of your reach. Reload the page."
      : "That did not work (" + status + "). Reload the page and try again.";
    flash.hidden = false;
  });
  document.addEventListener("htmx:sendError", function () {
    var flash = document.getElementById("flash");
    if (flash) { flash.textContent = "casebook cannot be reached; retrying."; flash.hidden = false; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var flash = document.getElementById("flash");
    var config = event.detail.requestConfig;
    if (flash && event.detail.successful && config && config.verb !== "get") flash.hidden = true;
  });

  // After a card moves, focus stays on it (the board is drawn anew).
  var moved = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("li.card form")) {
      moved = form.querySelector('input[name="key"]').value;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!moved || !document.getElementById("board")) return;
    var card = document.querySelector('li.card[data-key="' + moved + '"]');
    moved = null;
    if (card) card.focus();
  });

  // --- keyboard: / search, c new case, j/k move through the list, Enter opens, ? help ---
  var selected = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-row], li.card"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    var row = all[selected];
    if (row.tabIndex < 0 && row.tagName === "TR") row.tabIndex = -1;
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    var tag = target.tagName;
    if (tag === "INPUT") return target.type !== "checkbox";
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "/") {
      var search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "c") {
      var link = document.getElementById("new-case");
      event.preventDefault();
      window.location.href = link ? link.getAttribute("href") : "/cases/new";
    } else if (event.key === "j") {
      event.preventDefault(); select(selected + 1);
    } else if (event.key === "k") {
      event.preventDefault(); select(selected - 1);
    } else if (event.key === "Enter") {
      var all = rows();
      var current = all.indexOf(document.activeElement);
      if (current >= 0) {
        var open = all[current].querySelector("a[href]");
        if (open) { event.preventDefault(); window.location.href = open.getAttribute("href"); }
      }
    } else if (event.key === "?" && dialog && !dialog.open) {
      event.preventDefault(); dialog.showModal();
    }
  });

  // A live refresh replaces the list: keep the selected row and the ticked cases.
  var ticked = {};
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches('input[type="checkbox"][name="case"]')) ticked[box.value] = box.checked;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "bulk") ticked = {};  // applied: start anew
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (selected >= 0) {
      var all = rows();
      if (all[selected]) all[selected].classList.add("selected");
    }
    document.querySelectorAll('input[type="checkbox"][name="case"]').forEach(function (box) {
      if (ticked[box.value]) box.checked = true;
    });
  });

  // --- the board: drag a card to another column --------------------------------------
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("li.card");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.key);
    event.dataTransfer.effectAllowed = "move";
  });

  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest("section.column");
    if (column) { event.preventDefault(); column.classList.add("over"); }
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest("section.column");
    if (column) column.classList.remove("over");
  });

  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest("section.column");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("over");
    var key = event.dataTransfer.getData("text/plain");
    var board = document.getElementById("board");
    if (!key || !board || !window.htmx) return;
    window.htmx.ajax("POST", "/board/move", {
      source: board,
      target: "#board",
      swap: "outerHTML",
      values: { key: key, status: column.dataset.status, project: board.dataset.project || "" },
    });
  });
})();
