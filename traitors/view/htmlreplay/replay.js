/* The replay of one episode: reads the JSON document embedded in the page and shows, up to
   the chosen step, the transcript, the players' board, the votes, the belief heatmap and the
   trust graph, for the god view or one seat. Every string from the document is shown with
   textContent or a text node, never parsed as markup. */
(function () {
  "use strict";

  var doc = JSON.parse(document.getElementById("episode-data").textContent);
  var SVG_NS = document.getElementById("trust").namespaceURI;
  var FOLDED = { reasoning: "reasoning", belief: "beliefs" };
  var STANCE = { accuse: -1, defend: 1 };
  var players = doc.players;
  var colour = new Map(players.map(function (name, i) { return [name, "p" + (i % 10)]; }));
  var hiddenRoles = new Set(doc.words.hidden_roles);
  var eliminationVotes = new Set(doc.words.elimination_votes);
  var bySeq = new Map(doc.events.map(function (e) { return [e.seq, e]; }));
  var names = players.slice().sort(function (a, b) { return b.length - a.length; });
  var namePattern = names.length ? new RegExp("\\b(" + names.map(escapeRegExp).join("|") + ")\\b") : null;
  var short = new Map(players.map(function (name) { return [name, shortLabel(name)]; }));
  var state = { view: 0, step: 0, rows: [], heads: [] };

  function $(id) { return document.getElementById(id); }

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    return node;
  }

  /* text into parent, each player's name in their colour */
  function painted(parent, text) {
    var parts = namePattern ? String(text).split(namePattern) : [String(text)];
    parts.forEach(function (part, i) {
      if (i % 2 === 1) parent.appendChild(el("span", colour.get(part), part));
      else if (part) parent.appendChild(document.createTextNode(part));
    });
    return parent;
  }

  /* the shortest prefix of a name (3 letters at least) that no other player's name shares */
  function shortLabel(name) {
    var size = 3;
    while (size < name.length && players.some(function (o) { return o !== name && o.slice(0, size) === name.slice(0, size); })) size += 1;
    return name.slice(0, size);
  }

  function phaseName(phase) { return doc.words.phases[phase] || phase.replace(/_/g, " "); }

  function view() { return doc.views[state.view]; }

  function seenUpTo() {
    return view().steps.slice(0, state.step + 1).map(function (seq) { return bySeq.get(seq); });
  }

  /* --- header and controls ------------------------------------------------------------- */

  function header() {
    var ep = doc.episode;
    $("title").textContent = ep.name + (ep.scenario === ep.name ? "" : " \u00b7 " + ep.scenario);
    var seat = view().seat;
    var who = ep.exported_as ? "exported as " + ep.exported_as + ": only what " + ep.exported_as + " saw"
      : (seat === null ? "god view" : "as " + seat + ": what " + seat + " saw");
    $("meta").textContent = "episode " + ep.id + " \u00b7 " + players.length + " players \u00b7 " + who;
    var sawEnd = seat === null || view().steps.some(function (seq) { return bySeq.get(seq).kind === "game_over"; });
    var result = ep.result;
    if (result && sawEnd) {
      var winner = result.winner === null ? "draw" : "winner: " + result.winner;
      $("result").textContent = winner + " (" + result.reason + ") after " + result.rounds + " round(s)"
        + (result.truncated ? ", truncated" : "");
    } else {
      $("result").textContent = "result not seen";
    }
    $("status").hidden = ep.played;
    $("status").textContent = "status: " + ep.status + (ep.status_reason ? ": " + ep.status_reason : "")
      + " (not played as specified)";
  }

  function viewOptions() {
    var select = $("view");
    doc.views.forEach(function (v, i) {
      var option = el("option", "", v.seat === null ? "god" : v.seat);
      option.value = String(i);
      select.appendChild(option);
    });
    select.disabled = doc.views.length < 2;
  }

  /* --- transcript -------------------------------------------------------------------------- */

  function transcriptRow(e) {
    var row = el("div", "row " + e.scope + (e.kind === "game_over" ? " over" : ""));
    row.dataset.seq = String(e.seq);
    var what = row.appendChild(el("div", "what"));
    var marker = e.marker ? el("span", "marker", e.marker + " ") : null;
    if (FOLDED[e.kind]) {
      var details = el("details");
      var summary = details.appendChild(el("summary"));
      if (marker) summary.appendChild(marker);
      painted(summary, (e.actor || "") + " \u00b7 " + FOLDED[e.kind]);
      details.appendChild(painted(el("div", "folded"), e.line));
      what.appendChild(details);
    } else {
      if (marker) what.appendChild(marker);
      what.appendChild(painted(el("span", "line"), e.line));
    }
    return row;
  }

  /* one row per step with a line (null for the others), under a heading per round and phase */
  function buildTranscript() {
    var box = $("transcript");
    box.replaceChildren();
    var last = "";
    state.heads = [];
    state.rows = view().steps.map(function (seq, i) {
      var e = bySeq.get(seq);
      if (e.line === null) return null;
      var where = "round " + e.round + " \u00b7 " + phaseName(e.phase);
      if (where !== last) state.heads.push([i, box.appendChild(el("div", "phase", where))]);
      last = where;
      return box.appendChild(transcriptRow(e));
    });
  }

  function showTranscript() {
    state.rows.forEach(function (row, i) { if (row) row.hidden = i > state.step; });
    state.heads.forEach(function (head) { head[1].hidden = head[0] > state.step; });
    var box = $("transcript");
    box.scrollTop = box.scrollHeight;
  }

  /* --- board ------------------------------------------------------------------------------ */

  function boardAt(upTo) {
    var seats = new Map();
    var notes = {};
    view().board.forEach(function (item) {
      if (item[0] > upTo) return;
      var change = item[1];
      Object.keys(change.seats || {}).forEach(function (name) { seats.set(name, change.seats[name]); });
      if (change.notes) notes = change.notes;
    });
    return { seats: seats, notes: notes };
  }

  function showBoard(board) {
    var seat = view().seat;
    $("board-title").textContent = seat === null ? "players (true roles)" : "players as " + seat + " knows them";
    var table = $("board");
    table.replaceChildren();
    var head = el("tr");
    ["player", "status", "role"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    board.seats.forEach(function (s, name) {
      var row = body.appendChild(el("tr", s.fate ? "out" : ""));
      row.dataset.player = name;
      var who = row.appendChild(el("td", "player"));
      who.appendChild(el("span", colour.get(name), name));
      if (name === seat) who.appendChild(el("span", "you", " \u25c2 you"));
      row.appendChild(el("td", "fate", s.fate || "alive"));
      var role = row.appendChild(el("td", "role" + (hiddenRoles.has(s.role) ? " hidden-side" : ""), s.role || "?"));
      if (s.revealed) role.appendChild(el("span", "revealed", "*"));
    });
    var notes = $("notes");
    notes.replaceChildren();
    Object.keys(board.notes).forEach(function (label) {
      notes.appendChild(el("dt", "", label));
      notes.appendChild(el("dd", "", board.notes[label]));
    });
  }

  /* --- votes ------------------------------------------------------------------------------ */

  function showVotes(seen) {
    var ballots = new Map();
    seen.forEach(function (e) {
      var v = e.vote || e.result;
      if (!v) return;
      var key = e.round + "|" + v.purpose + "|" + v.ballot;
      if (!ballots.has(key)) ballots.set(key, { round: e.round, purpose: v.purpose, ballot: v.ballot, votes: [], result: null });
      var b = ballots.get(key);
      if (e.vote) b.votes.push([e.actor, v.target]);
      else b.result = v;
    });
    var box = $("votes");
    box.replaceChildren();
    if (!ballots.size) box.appendChild(el("p", "empty", "no vote yet"));
    Array.from(ballots.values()).reverse().forEach(function (b) {
      var part = box.appendChild(el("div", "ballot"));
      part.appendChild(el("h3", "", "r" + b.round + " \u00b7 " + b.purpose + " \u00b7 ballot " + (b.ballot + 1)));
      var table = part.appendChild(el("table"));
      b.votes.forEach(function (vote) {
        var row = table.appendChild(el("tr"));
        painted(row.appendChild(el("td")), vote[0] || "");
        row.appendChild(el("td", "arrow", "\u2192"));
        painted(row.appendChild(el("td")), vote[1] === null ? "abstains" : vote[1]);
      });
      part.appendChild(painted(el("p", "tally"), b.result ? tallyText(b.result) : "counting..."));
    });
  }

  function tallyText(r) {
    var counts = Object.keys(r.tally).map(function (t) { return t + " " + r.tally[t]; }).join(", ") || "no votes";
    var outcome = r.decided || (r.tied.length ? "tie: " + r.tied.join(", ") : "nobody");
    return counts + " \u21d2 " + outcome + (r.random_pick ? " (random pick)" : "");
  }

  /* --- rounds, beliefs, trust ------------------------------------------------------------- */

  function roundChoice(seen, current) {
    var select = $("round");
    var chosen = select.value;
    var rounds = Array.from(new Set(seen.map(function (e) { return e.round; }))).filter(function (r) { return r > 0; });
    select.replaceChildren();
    var follow = el("option", "", "step (" + current + ")");
    follow.value = "";
    select.appendChild(follow);
    rounds.forEach(function (r) {
      var option = el("option", "", String(r));
      option.value = String(r);
      select.appendChild(option);
    });
    select.value = rounds.indexOf(Number(chosen)) >= 0 ? chosen : "";
    return select.value ? Number(select.value) : null;
  }

  function heat(p) {
    var red = Math.round(255 * Math.min(1, 2 * p));
    var green = Math.round(255 * Math.min(1, 2 * (1 - p)));
    return "rgb(" + red + "," + green + ",60)";
  }

  function showBeliefs(seen, pinned, board) {
    var beliefs = seen.filter(function (e) { return e.probs && (pinned === null || e.round === pinned); });
    var round = pinned !== null ? pinned : (beliefs.length ? beliefs[beliefs.length - 1].round : null);
    var latest = new Map();
    beliefs.forEach(function (e) { if (e.round === round) latest.set(e.actor, e.probs); });
    $("beliefs-title").textContent = "beliefs P(" + doc.words.suspect + ")" + (round === null ? "" : " \u00b7 round " + round);
    var box = $("heatmap");
    box.replaceChildren();
    if (!latest.size) {
      box.appendChild(el("p", "empty", "no belief reported" + (pinned === null ? " yet" : " in round " + pinned)));
      return;
    }
    var table = box.appendChild(el("table", "heatmap"));
    var head = table.appendChild(el("tr"));
    head.appendChild(el("th", "", "believer"));
    players.forEach(function (name) {
      var s = board.seats.get(name);
      var th = head.appendChild(el("th", colour.get(name), short.get(name)));
      th.title = name;
      if (s && hiddenRoles.has(s.role)) th.classList.add("hidden-side");
    });
    latest.forEach(function (probs, believer) {
      var row = table.appendChild(el("tr"));
      row.appendChild(el("th", colour.get(believer), believer));
      players.forEach(function (name) {
        var p = probs[name];
        var cell = row.appendChild(el("td", "", p === undefined ? "" : String(Math.round(p * 100))));
        if (p !== undefined) cell.style.backgroundColor = heat(p);
      });
    });
  }

  function stances(seen, round) {
    var weights = new Map();
    function add(from, to, sign) {
      if (!from || !to || from === to || !colour.has(to)) return;
      var key = from + "\u0000" + to;
      weights.set(key, (weights.get(key) || 0) + sign);
    }
    seen.forEach(function (e) {
      if (e.round !== round || e.scope !== "public") return;
      if (e.vote && eliminationVotes.has(e.vote.purpose)) add(e.actor, e.vote.target, -1);
      (e.stances || []).forEach(function (s) { add(e.actor, s[1], STANCE[s[0]] || 0); });
    });
    return weights;
  }

  function showTrust(seen, round, board) {
    $("trust-title").textContent = "trust \u00b7 round " + round;
    var box = $("trust");
    box.replaceChildren();
    var defs = box.appendChild(svg("defs", {}));
    [["neg", "#c0392b"], ["pos", "#1e8449"]].forEach(function (m) {
      var marker = defs.appendChild(svg("marker", { id: "arrow-" + m[0], viewBox: "0 0 10 10", refX: 10, refY: 5,
        markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }));
      marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: m[1] }));
    });
    var at = new Map();
    players.forEach(function (name, i) {
      var angle = -Math.PI / 2 + 2 * Math.PI * i / players.length;
      at.set(name, [200 + 130 * Math.cos(angle), 200 + 130 * Math.sin(angle), angle]);
    });
    stances(seen, round).forEach(function (w, key) {
      if (!w) return;
      var pair = key.split("\u0000");
      var a = at.get(pair[0]);
      var b = at.get(pair[1]);
      var dx = b[0] - a[0], dy = b[1] - a[1], len = Math.sqrt(dx * dx + dy * dy);
      var ux = dx / len, uy = dy / len;
      var x1 = a[0] + 18 * ux, y1 = a[1] + 18 * uy, x2 = b[0] - 20 * ux, y2 = b[1] - 20 * uy;
      var bend = 0.12 * len;
      var cx = (x1 + x2) / 2 - uy * bend, cy = (y1 + y2) / 2 + ux * bend;
      var edge = box.appendChild(svg("path", {
        d: "M " + x1.toFixed(1) + " " + y1.toFixed(1) + " Q " + cx.toFixed(1) + " " + cy.toFixed(1) + " "
          + x2.toFixed(1) + " " + y2.toFixed(1),
        class: "edge " + (w < 0 ? "neg" : "pos"), "stroke-width": Math.min(1 + Math.abs(w), 6),
        "marker-end": "url(#arrow-" + (w < 0 ? "neg" : "pos") + ")" }));
      edge.appendChild(svg("title", {})).textContent = pair[0] + " \u2192 " + pair[1] + ": " + (w > 0 ? "+" : "") + w;
    });
    players.forEach(function (name) {
      var p = at.get(name);
      var s = board.seats.get(name);
      var node = box.appendChild(svg("g", { class: "node " + colour.get(name) + (s && s.fate ? " out" : "") }));
      node.appendChild(svg("circle", { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 14,
        class: s && hiddenRoles.has(s.role) ? "hidden-side" : "" }));
      var lx = p[0] + 24 * Math.cos(p[2]), ly = p[1] + 24 * Math.sin(p[2]) + 4;
      var anchor = Math.abs(Math.cos(p[2])) < 0.3 ? "middle" : (Math.cos(p[2]) > 0 ? "start" : "end");
      node.appendChild(svg("text", { x: lx.toFixed(1), y: ly.toFixed(1), "text-anchor": anchor })).textContent = name;
      node.appendChild(svg("title", {})).textContent = name + (s && s.fate ? " (" + s.fate + ")" : "");
    });
  }

  /* --- the whole view at the chosen step ------------------------------------------------- */

  function render() {
    var steps = view().steps;
    var range = $("step");
    range.max = String(Math.max(steps.length - 1, 0));
    range.value = String(state.step);
    $("prev").disabled = state.step <= 0;
    $("next").disabled = state.step >= steps.length - 1;
    var seen = seenUpTo();
    var last = seen.length ? seen[seen.length - 1] : null;
    var upTo = last ? last.seq : -1;
    var current = last ? last.round : 0;
    $("where").textContent = "step " + (state.step + 1) + "/" + steps.length
      + (last ? " \u00b7 round " + last.round + " \u00b7 " + phaseName(last.phase) : "");
    showTranscript();
    var board = boardAt(upTo);
    showBoard(board);
    showVotes(seen);
    var pinned = roundChoice(seen, current);
    showBeliefs(seen, pinned, board);
    showTrust(seen, pinned === null ? current : pinned, board);
  }

  function goTo(step) {
    state.step = Math.max(0, Math.min(step, view().steps.length - 1));
    render();
  }

  function switchView(index) {
    var seq = view().steps[state.step];
    state.view = index;
    var steps = view().steps;
    var step = 0;
    while (step + 1 < steps.length && steps[step + 1] <= seq) step += 1;
    state.step = step;
    header();
    buildTranscript();
    render();
  }

  viewOptions();
  $("step").addEventListener("input", function (event) { goTo(Number(event.target.value)); });
  $("prev").addEventListener("click", function () { goTo(state.step - 1); });
  $("next").addEventListener("click", function () { goTo(state.step + 1); });
  $("view").addEventListener("change", function (event) { switchView(Number(event.target.value)); });
  $("round").addEventListener("change", render);
  state.step = view().steps.length - 1;
  header();
  buildTranscript();
  render();
}());
