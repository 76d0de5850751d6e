// The screening widget's face in the browser (anywidget ESM; the standalone page loads the same file).
//
// Why one message per decision: the decision, its reasons and the note travel together in a
// single message naming the record on screen, so a reason or note can never arrive after the
// click that uses it, and a key pressed for record A can never decide record B.
// Why the listener sits on the widget's root element: keys reach it from any button inside the
// widget (focus stays in the widget after a click), never from the rest of the page.

const DECISION_KEYS = { i: "include", e: "exclude", m: "maybe" };
const LABELS = { include: "Include", exclude: "Exclude", maybe: "Maybe" };

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

function ordinal(n) {
  return n === 1 ? "1st (primary)" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

function render({ model, el }) {
  const reasons = model.get("reasons"); // [{code, label, key}]
  const labelOf = Object.fromEntries(reasons.map((r) => [r.code, r.label]));
  let selected = []; // reason codes, in the order chosen (first = primary)
  let shownAt = performance.now();
  let lastRecord; // undefined until the first view
  let seq = 0;

  const root = h("div", { class: "rv-screen", tabindex: "0", "data-testid": "screening" });
  const header = h("div", { class: "rv-header" });
  const card = h("div", { class: "rv-card-box" });
  const message = h("div", { class: "rv-message", role: "status", "aria-live": "polite" });
  const send = (content) => model.send({ ...content, seq: ++seq });
  const say = (text, kind = "error") => {
    message.textContent = text;
    message.className = `rv-message rv-${kind}`;
  };

  const button = (label, title, onclick, cls = "") =>
    h("button", { class: `rv-button ${cls}`, title, type: "button", onclick }, label);
  const include = button("Include", "key i", () => decide("include"), "rv-include");
  const exclude = button("Exclude", "key e", () => decide("exclude"), "rv-exclude");
  const maybe = button("Maybe", "key m", () => decide("maybe"), "rv-maybe");

  const reasonButtons = reasons.map((r, index) =>
    button(`${r.key ? r.key + " " : ""}${r.label}`, `${r.code}${r.key ? " · key " + r.key : ""}`,
      () => toggleReason(r.code), "rv-reason"));
  reasonButtons.forEach((b, index) => b.setAttribute("data-code", reasons[index].code));
  const chosen = h("div", { class: "rv-chosen" });
  const clearReasons = button("Clear reasons", "key 0", () => { selected = []; drawReasons(); }, "rv-small");

  const note = h("textarea", { class: "rv-note", rows: "2", placeholder: "note (optional; saved with your decision)" });
  const fullText = h("input", { class: "rv-fulltext", type: "text", placeholder: "full text: file path or URL" });
  const attach = button("Attach full text", "", () => {
    send({ action: "attach", record: lastRecord, location: fullText.value });
  }, "rv-small");
  const notRetrieved = button("Not retrieved", "", () => send({ action: "not_retrieved", record: lastRecord }), "rv-small");
  const fullTextRow = h("div", { class: "rv-row rv-fulltext-row" }, fullText, attach, notRetrieved);

  const undo = button("Undo last", "key u", () => send({ action: "undo" }));
  const back = button("← Back", "key ←", () => send({ action: "back" }));
  const forward = button("Forward →", "key →", () => send({ action: "forward" }));
  const progressBar = h("progress", { class: "rv-progress", max: "1", value: "0" });
  const progressText = h("span", { class: "rv-progress-text" });
  const help = h("div", { class: "rv-help" },
    "Keys while the widget has focus: i include · e exclude · m maybe · 1–9 toggle a reason · 0 clear reasons · " +
    "u undo · ← → back and forward. Esc leaves a text box. A key decides only after the record has been " +
    `on screen for ${model.get("min_shown_ms")} ms; a held-down key decides nothing.`);

  // "When to stop": the stopping rule's verdict after each decision (review.widgets.stopping computes
  // it); a target typed into either box is sent when the box is left or Enter is pressed.
  const stopRecall = h("input", { class: "rv-stopping-recall", type: "number", step: "0.01",
                                  "aria-label": "Target recall" });
  const stopConfidence = h("input", { class: "rv-stopping-confidence", type: "number", step: "0.01",
                                      "aria-label": "Confidence" });
  const stopHeading = h("div", { class: "rv-stopping-heading" });
  const stopStatus = h("div", { class: "rv-stopping-status", "aria-live": "polite" });
  const stopPanel = h("div", { class: "rv-stopping-panel" }, stopHeading,
    h("div", { class: "rv-row" }, h("label", {}, "Target recall ", stopRecall),
      h("label", {}, "Confidence ", stopConfidence)), stopStatus);
  const sendTarget = () => send({ action: "stopping", recall: stopRecall.value, confidence: stopConfidence.value });
  stopRecall.addEventListener("change", sendTarget);
  stopConfidence.addEventListener("change", sendTarget);

  // "My decisions": every decision this reviewer made at this stage, in any session.
  const search = h("input", { class: "rv-search", type: "search", placeholder: "search title, note, record id" });
  const decisionFilter = h("select", { class: "rv-filter-decision" },
    h("option", { value: "", text: "any decision" }),
    ...Object.entries(LABELS).map(([code, label]) => h("option", { value: code, text: label })));
  const reasonFilter = h("select", { class: "rv-filter-reason" }, h("option", { value: "", text: "any reason" }),
    ...reasons.map((r) => h("option", { value: r.code, text: r.label })));
  const listBody = h("tbody");
  const listInfo = h("div", { class: "rv-list-info" });
  const listPanel = h("div", { class: "rv-list", style: "display:none" },
    h("div", { class: "rv-row" }, search, decisionFilter, reasonFilter), listInfo,
    h("table", { class: "rv-table" },
      h("thead", {}, h("tr", {}, ...["Record", "Title", "Decision", "Reasons", "Note", "When"].map(
        (t) => h("th", { text: t })))), listBody));
  const listToggle = button("My decisions", "show or hide your earlier decisions", () => {
    const open = listPanel.style.display === "none";
    listPanel.style.display = open ? "block" : "none";
    if (open) askList();
  });
  let listTimer = null;
  const askList = () => send({ action: "list", query: search.value, decision: decisionFilter.value,
                               reason: reasonFilter.value });
  search.addEventListener("input", () => { clearTimeout(listTimer); listTimer = setTimeout(askList, 150); });
  decisionFilter.addEventListener("change", askList);
  reasonFilter.addEventListener("change", askList);

  root.append(header, card,
    h("div", { class: "rv-row" }, include, exclude, maybe),
    h("div", { class: "rv-row rv-reasons" }, ...reasonButtons),
    h("div", { class: "rv-row" }, chosen, clearReasons),
    note, fullTextRow,
    h("div", { class: "rv-row" }, undo, back, forward, listToggle, progressBar, progressText),
    message, stopPanel, help, listPanel);
  el.append(root);

  function drawReasons() {
    reasonButtons.forEach((b, index) => {
      const at = selected.indexOf(reasons[index].code);
      b.classList.toggle("rv-selected", at >= 0);
      b.setAttribute("aria-pressed", at >= 0 ? "true" : "false");
    });
    chosen.textContent = selected.length
      ? "Reasons: " + selected.map((code, i) => `${ordinal(i + 1)} ${labelOf[code]}`).join(" · ")
      : "Reasons: none chosen";
  }

  function toggleReason(code) {
    const at = selected.indexOf(code);
    if (at >= 0) selected.splice(at, 1);
    else selected.push(code);
    drawReasons();
  }

  function decide(decision, byKey = false) {
    if (lastRecord == null) return;
    const onScreen = performance.now() - shownAt;
    if (byKey && onScreen < model.get("min_shown_ms")) {
      say(`Key ignored: record ${lastRecord} has been on screen only ${Math.round(onScreen)} ms. Press again.`);
      return;
    }
    // Typed text is applied or refused, never dropped: an unattached full-text location stops the save.
    if (fullText.value.trim() && fullTextRow.style.display !== "none") {
      say("The full-text location you typed is not attached: click Attach full text, or clear the box. " +
          "Nothing saved.");
      return;
    }
    send({ action: "decide", decision, reasons: selected.slice(), note: note.value, record: lastRecord,
           shown_ms: Math.round(onScreen) });
  }

  root.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
                              (target.tagName === "INPUT" && target.type !== "button"));
    // Keys handled here must not reach JupyterLab (m would turn the cell into Markdown).
    if (typing) {
      if (event.key === "Escape") { root.focus(); event.preventDefault(); }
      event.stopPropagation();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    let handled = true;
    if (event.repeat) {
      // A held-down key decides nothing; swallow it so the page does not act on it either.
    } else if (DECISION_KEYS[key.toLowerCase()]) decide(DECISION_KEYS[key.toLowerCase()], true);
    else if (key === "u" || key === "U") send({ action: "undo" });
    else if (key === "ArrowLeft") send({ action: "back" });
    else if (key === "ArrowRight") send({ action: "forward" });
    else if (key === "0") { selected = []; drawReasons(); }
    else if (/^[1-9]$/.test(key) && reasons[Number(key) - 1]) toggleReason(reasons[Number(key) - 1].code);
    else handled = false;
    if (handled) { event.preventDefault(); event.stopPropagation(); }
  });

  function draw() {
    const view = model.get("view");
    header.innerHTML = view.header || "";
    progressBar.max = Math.max(view.total || 0, 1);
    progressBar.value = view.decided || 0;
    progressText.textContent = view.progress_text || "";
    back.disabled = !view.can_back;
    for (const b of [include, exclude, maybe, ...reasonButtons]) b.disabled = view.record == null;
    fullTextRow.style.display = view.full_text_stage ? "flex" : "none";
    if (view.message) say(view.message, view.message_kind || "ok");
    else say("", "ok");
    if (view.record !== lastRecord || view.redraw) {
      // A new record: its own saved reasons and note, never the previous record's.
      card.innerHTML = view.card || "";
      card.scrollTop = 0;  // each record is read from its title down
      lastRecord = view.record;
      selected = (view.mine && view.mine.reasons) ? view.mine.reasons.slice() : [];
      note.value = (view.mine && view.mine.note) || "";
      fullText.value = "";
      shownAt = performance.now();
      root.setAttribute("data-record", view.record == null ? "" : String(view.record));
      root.setAttribute("data-shown-at", String(shownAt));
      drawReasons();
      // A button disabled at the end of the queue would drop the focus out of the widget.
      if (root.contains(document.activeElement) && document.activeElement.disabled) root.focus({ preventScroll: true });
    } else {
      card.innerHTML = view.card || "";
    }
    listToggle.textContent = `My decisions (${view.decided || 0})`;
    const stop = view.stopping;
    stopPanel.style.display = stop ? "block" : "none";
    if (stop) {
      stopHeading.innerHTML = stop.heading;  // trusted: a constant of review.widgets.stopping
      stopStatus.innerHTML = stop.html;      // escaped there
      for (const [box, value] of [[stopRecall, stop.recall], [stopConfidence, stop.confidence]]) {
        box.min = String(stop.lowest);
        box.max = String(stop.highest);
        // The value in force; a box being typed in keeps what the reviewer is typing.
        if (document.activeElement !== box) box.value = String(value);
      }
    }
  }

  function drawList() {
    const listing = model.get("listing");
    listBody.replaceChildren(...(listing.rows || []).map((row) => {
      const tr = h("tr", { class: "rv-list-row", "data-record": String(row.record), title: "open this record" },
        h("td", { text: String(row.record) }), h("td", { text: row.title }), h("td", { text: row.decision }),
        h("td", { text: row.reasons }), h("td", { text: row.note }), h("td", { text: row.when }));
      tr.addEventListener("click", () => send({ action: "go", record: row.record }));
      return tr;
    }));
    listInfo.textContent = listing.total == null ? "" :
      `${listing.total} decision${listing.total === 1 ? "" : "s"} match` +
      (listing.rows && listing.rows.length < listing.total ? `; the first ${listing.rows.length} shown` : "");
  }

  model.on("change:view", draw);
  model.on("change:listing", drawList);
  draw();
  drawList();
  return () => {
    model.off("change:view", draw);
    model.off("change:listing", drawList);
  };
}

export default { render };
