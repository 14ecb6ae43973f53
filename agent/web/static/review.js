// specdraft review page: sorting and filtering the list, live reload, commenting on a line.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

function sortTable(table, column, kind, descending) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const value = (row) => row.cells[column].dataset.value || row.cells[column].textContent;
  rows.sort((a, b) => {
    const x = value(a), y = value(b);
    const order = kind === "num" ? Number(x) - Number(y) : x.localeCompare(y);
    return descending ? -order : order;
  });
  rows.forEach((row) => body.appendChild(row));
}

function setUpList() {
  const table = document.getElementById("specs");
  if (!table) return;
  table.querySelectorAll("th[data-sort]").forEach((th, column) => {
    th.tabIndex = 0;
    th.addEventListener("click", () => {
      const descending = !th.classList.contains("sorted-desc");
      table.querySelectorAll("th").forEach((other) => other.classList.remove("sorted-asc", "sorted-desc"));
      th.classList.add(descending ? "sorted-desc" : "sorted-asc");
      sortTable(table, column, th.dataset.sort, descending);
    });
  });
  const text = document.getElementById("filter");
  const status = document.getElementById("status-filter");
  const apply = () => {
    const words = text.value.trim().toLowerCase();
    Array.from(table.tBodies[0].rows).forEach((row) => {
      const shown = (!words || row.dataset.search.includes(words)) && (!status.value || row.dataset.status === status.value);
      row.hidden = !shown;
    });
  };
  text.addEventListener("input", apply);
  status.addEventListener("change", apply);
}

function setUpComments() {
  const doc = document.getElementById("doc");
  const line = document.getElementById("comment-line");
  if (!doc || !line) return;
  doc.addEventListener("click", (event) => {
    if (event.target.closest("a, summary")) return;
    const block = event.target.closest("[data-line]");
    if (!block) return;
    line.value = block.dataset.line;
    document.getElementById("comment-section").value = "";
    doc.querySelectorAll(".picked").forEach((el) => el.classList.remove("picked"));
    block.classList.add("picked");
    document.getElementById("comment-text").focus();
  });
}

function typing() {
  // a half-written comment or approval is not thrown away by a reload
  return Array.from(document.querySelectorAll("textarea, input[name=role], input[name=note]"))
    .some((field) => field.value.trim() !== "");
}

function setUpLive() {
  const source = document.body.dataset.events;
  if (!source || !window.EventSource) return;
  const events = new EventSource(source);
  events.addEventListener("change", () => {
    if (typing()) {
      document.getElementById("live").hidden = false;
    } else {
      window.location.reload();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpList();
  setUpComments();
  setUpLive();
});
