// datacraft review --web. Record text is only ever put in the page with textContent.
"use strict";
(() => {
  const token = document.querySelector('meta[name="review-token"]').content;
  const $ = (id) => document.getElementById(id);
  let state = null, view = [], pos = 0;

  async function call(method, path, body) {
    const options = {method, headers: {"X-Review-Token": token}};
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    const response = await fetch(path, options);
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function el(tag, text) { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; return node; }

  // Text with ``` fences: the fenced parts as <pre> blocks, the rest as text.
  function showText(target, text) {
    target.replaceChildren();
    const parts = text.split(/```[^\n`]*\n?/);
    parts.forEach((part, i) => {
      if (!part) return;
      target.append(i % 2 ? el("pre", part.replace(/\n$/, "")) : document.createTextNode(part));
    });
  }

  // A word-level diff (longest common subsequence) as <del>/<ins> runs.
  function showDiff(target, before, after) {
    const a = before.split(/(\s+)/), b = after.split(/(\s+)/);
    const n = a.length, m = b.length, table = Array.from({length: n + 1}, () => new Int32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    target.replaceChildren();
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) { target.append(document.createTextNode(a[i])); i++; j++; }
      else if (j < m && (i === n || table[i][j + 1] >= table[i + 1][j])) { target.append(el("ins", b[j])); j++; }
      else { target.append(el("del", a[i])); i++; }
    }
  }

  function filtered() {
    const verdict = $("filter-verdict").value, reason = $("filter-reason").value;
    return state.items.filter((item) =>
      (verdict === "all" || (verdict === "undecided" ? !item.verdict : item.verdict === verdict)) &&
      (!reason || (item.verdict === "rejected" && item.reason === reason)));
  }

  function render(keep) {
    const current = view[pos] ? view[pos].index : null;
    view = filtered();
    if (keep && current !== null) { const at = view.findIndex((item) => item.index === current); if (at >= 0) pos = at; }
    pos = Math.max(0, Math.min(pos, view.length - 1));
    const c = state.counts, decided = c.accepted + c.edited + c.rejected;
    $("progress").textContent = `${decided} of ${state.total} decided: accepted ${c.accepted}, edited ${c.edited}, rejected ${c.rejected}`;
    const reasonFilter = $("filter-reason"), chosen = reasonFilter.value;
    reasonFilter.replaceChildren(el("option", "any"));
    reasonFilter.firstChild.value = "";
    const list = $("reasons"), buttons = $("reason-buttons");
    list.replaceChildren(); buttons.replaceChildren();
    state.reasons.forEach((reason, i) => {
      const option = el("option", reason); option.value = reason; reasonFilter.append(option);
      const choice = el("option"); choice.value = reason; list.append(choice);
      if (i < 9) { const button = el("button", `${i + 1}. ${reason}`); button.type = "button"; button.dataset.reason = reason; buttons.append(button); }
    });
    reasonFilter.value = chosen;
    $("undo").disabled = !state.undo;
    $("files").textContent = `saved on every decision to ${state.files.output} and ${state.files.feedback}`;
    const item = view[pos];
    $("record").hidden = !item;
    $("position").textContent = item ? `record ${pos + 1} of ${view.length} shown` : "no records match the filter";
    if (!item) return;
    $("record-id").textContent = item.id;
    const badge = $("record-verdict");
    badge.textContent = item.verdict || "undecided";
    badge.className = `verdict ${item.verdict || ""}`;
    $("record-reason").textContent = item.reason && item.verdict !== "accepted" ? item.reason : "";
    const shown = item.better || item.fields;
    showText($("f-instruction"), shown.instruction);
    showText($("f-input"), shown.input);
    $("s-input").hidden = !shown.input;
    showText($("f-output"), shown.output);
    $("diff").hidden = !item.better;
    if (item.better) showDiff($("diff-body"), item.fields.output, item.better.output);
  }

  async function load() { state = await call("GET", "/api/state"); render(false); }

  async function decide(body) {
    try {
      state = await call("POST", "/api/decide", body);
      $("message").textContent = "";
      closeForms();
      render(true);
      if ($("filter-verdict").value === "all" && pos < view.length - 1) { pos++; render(false); }
    } catch (error) { $("message").textContent = error.message; }
  }

  function closeForms() { $("reject-form").hidden = true; $("edit-form").hidden = true; }
  function current() { return view[pos]; }

  function startReject() {
    if (!current()) return;
    closeForms(); $("reject-form").hidden = false; $("reason").value = ""; $("reason").focus();
  }
  function startEdit() {
    const item = current(); if (!item) return;
    closeForms();
    const shown = item.better || item.fields;
    for (const field of ["instruction", "input", "output"]) $(`e-${field}`).value = shown[field];
    $("edit-reason").value = "";
    $("edit-form").hidden = false; $("e-output").focus();
  }
  async function undo() {
    try { state = await call("POST", "/api/undo", {}); $("message").textContent = ""; render(true); }
    catch (error) { $("message").textContent = error.message; }
  }
  function move(step) { pos = Math.max(0, Math.min(view.length - 1, pos + step)); closeForms(); render(false); }

  $("accept").addEventListener("click", () => current() && decide({index: current().index, verdict: "accepted"}));
  $("reject").addEventListener("click", startReject);
  $("edit").addEventListener("click", startEdit);
  $("undo").addEventListener("click", undo);
  $("next").addEventListener("click", () => move(1));
  $("prev").addEventListener("click", () => move(-1));
  $("reject-cancel").addEventListener("click", closeForms);
  $("edit-cancel").addEventListener("click", closeForms);
  $("reason-buttons").addEventListener("click", (event) => {
    const reason = event.target.dataset && event.target.dataset.reason;
    if (reason && current()) decide({index: current().index, verdict: "rejected", reason});
  });
  $("reject-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = $("reason").value.trim();
    if (!reason) { $("message").textContent = "type a reason, or pick one"; return; }
    decide({index: current().index, verdict: "rejected", reason});
  });
  $("edit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = {instruction: $("e-instruction").value, input: $("e-input").value, output: $("e-output").value};
    decide({index: current().index, verdict: "edited", fields, reason: $("edit-reason").value.trim()});
  });
  $("filter-verdict").addEventListener("change", () => { pos = 0; render(false); });
  $("filter-reason").addEventListener("change", () => { pos = 0; render(false); });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (event.key === "Escape") { closeForms(); document.activeElement.blur(); return; }
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !$("edit-form").hidden) $("edit-form").requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {a: () => current() && decide({index: current().index, verdict: "accepted"}), r: startReject,
                     e: startEdit, j: () => move(1), k: () => move(-1), u: undo};
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
  });
  load().catch((error) => { $("message").textContent = error.message; });
})();
