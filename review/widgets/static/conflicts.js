// The conflicts widget's face (anywidget ESM; the standalone page loads the same file).
// Left: every conflicting record with a search box and a filter. Right: the record, each
// reviewer's decision, reasons and note side by side, and the resolution form. A resolution
// travels as one message (decision, reasons, note, record), so nothing typed is lost.

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function render({ model, el }) {
  const reasons = model.get("reasons");
  const labelOf = Object.fromEntries(reasons.map((r) => [r.code, r.label]));
  let selected = [];
  let lastRecord;
  let seq = 0;
  const send = (content) => model.send({ ...content, seq: ++seq });

  const root = h("div", { class: "rv-conflicts", tabindex: "0" });
  const header = h("div", { class: "rv-header" });
  const progressBar = h("progress", { class: "rv-progress", max: "1", value: "0" });
  const progressText = h("span", { class: "rv-progress-text" });
  const search = h("input", { class: "rv-search", type: "search", placeholder: "search title or record id" });
  const statusFilter = h("select", { class: "rv-filter-status" },
    h("option", { value: "open", text: "to resolve" }), h("option", { value: "resolved", text: "resolved" }),
    h("option", { value: "", text: "all" }));
  const listBody = h("tbody");
  const list = h("div", { class: "rv-conflict-list" }, h("div", { class: "rv-row" }, search, statusFilter),
    h("table", { class: "rv-table" }, h("thead", {}, h("tr", {}, ...["Record", "Title", "Status"].map(
      (t) => h("th", { text: t })))), listBody));
  const card = h("div", { class: "rv-card-box" });
  const sideBySide = h("div", { class: "rv-side-by-side" });
  const current = h("div", { class: "rv-current" });
  const method = h("div", { class: "rv-method" });
  const reasonButtons = reasons.map((r) => {
    const b = h("button", { class: "rv-button rv-reason", type: "button", title: r.code, "data-code": r.code },
      `${r.key ? r.key + " " : ""}${r.label}`);
    b.addEventListener("click", () => toggle(r.code));
    return b;
  });
  const chosen = h("div", { class: "rv-chosen" });
  const note = h("textarea", { class: "rv-note", rows: "2", placeholder: "note: why, and who agreed" });
  const include = h("button", { class: "rv-button rv-include", type: "button" }, "Resolve as Include");
  const exclude = h("button", { class: "rv-button rv-exclude", type: "button" }, "Resolve as Exclude");
  include.addEventListener("click", () => resolve("include"));
  exclude.addEventListener("click", () => resolve("exclude"));
  const form = h("div", { class: "rv-resolve" }, method, h("div", { class: "rv-row rv-reasons" }, ...reasonButtons),
    chosen, note, h("div", { class: "rv-row" }, include, exclude));
  const message = h("div", { class: "rv-message", role: "status" });
  const detail = h("div", { class: "rv-detail" }, card, sideBySide, current, form);
  root.append(header, h("div", { class: "rv-row" }, progressBar, progressText), message,
    h("div", { class: "rv-columns" }, list, detail));
  el.append(root);

  function toggle(code) {
    const at = selected.indexOf(code);
    if (at >= 0) selected.splice(at, 1); else selected.push(code);
    drawReasons();
  }
  function drawReasons() {
    reasonButtons.forEach((b) => b.classList.toggle("rv-selected", selected.includes(b.dataset.code)));
    chosen.textContent = selected.length ? "Reasons: " + selected.map(
      (c, i) => `${i === 0 ? "1st (primary)" : i + 1 + "."} ${labelOf[c]}`).join(" · ") : "Reasons: none chosen";
  }
  function resolve(decision) {
    if (lastRecord == null) return;
    // Everything chosen is sent; reasons with Include are refused by the server with a message,
    // never dropped without a word.
    send({ action: "resolve", record: lastRecord, decision, reasons: selected.slice(), note: note.value });
  }
  root.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT")) {
      event.stopPropagation();
      return;
    }
    if (/^[1-9]$/.test(event.key) && reasons[Number(event.key) - 1] && !event.repeat) {
      toggle(reasons[Number(event.key) - 1].code);
      event.preventDefault();
      event.stopPropagation();
    }
  });

  function drawList() {
    const view = model.get("view");
    const query = search.value.trim().toLowerCase();
    const wanted = statusFilter.value;
    const rows = (view.items || []).filter((item) =>
      (!wanted || item.status === wanted) &&
      (!query || item.title.toLowerCase().includes(query) || String(item.record) === query));
    listBody.replaceChildren(...rows.map((item) => {
      const tr = h("tr", { class: "rv-list-row" + (item.record === view.record ? " rv-open" : ""),
                           "data-record": String(item.record) },
        h("td", { text: String(item.record) }), h("td", { text: item.title }),
        h("td", { text: item.status === "open" ? "to resolve" : `resolved: ${item.resolved_as}` }));
      tr.addEventListener("click", () => send({ action: "open", record: item.record }));
      return tr;
    }));
  }
  search.addEventListener("input", drawList);
  statusFilter.addEventListener("change", drawList);

  function draw() {
    const view = model.get("view");
    header.innerHTML = view.header || "";
    progressBar.max = Math.max(view.total || 0, 1);
    progressBar.value = view.resolved || 0;
    progressText.textContent = `${view.resolved || 0} of ${view.total || 0} conflicts resolved`;
    message.textContent = view.message || "";
    message.className = `rv-message rv-${view.message_kind || "ok"}`;
    method.textContent = view.method || "";
    root.setAttribute("data-record", view.record == null ? "" : String(view.record));
    if (view.record !== lastRecord) {
      lastRecord = view.record;
      selected = [];
      note.value = "";
      drawReasons();
    }
    card.innerHTML = view.card || "";
    sideBySide.replaceChildren(...(view.reviewers || []).map((r) => h("div", { class: "rv-reviewer" },
      h("div", { class: "rv-who", text: r.who }), h("div", { class: "rv-decision", text: r.decision }),
      h("div", { class: "rv-reasons-given", text: r.reasons ? `Reasons: ${r.reasons}` : "" }),
      h("div", { class: "rv-note-given", text: r.note ? `Note: ${r.note}` : "" }),
      h("div", { class: "rv-when", text: r.when }))));
    current.textContent = view.resolution || "";
    const can = view.record != null && view.can_resolve;
    form.style.display = view.record == null ? "none" : "block";
    for (const b of [include, exclude, ...reasonButtons]) b.disabled = !can;
    note.disabled = !can;
    drawList();
  }
  model.on("change:view", draw);
  draw();
  return () => model.off("change:view", draw);
}

export default { render };
