// The agent desktop. Everything it shows comes from the desk API and the event stream
// (docs/events.md); it renders with textContent only, never innerHTML of call data.
"use strict";

const state = {agent: null, selected: null, accepted: null};
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(`/api/v1/desk${path}`, {
    credentials: "same-origin",
    headers: {"Content-Type": "application/json"},
    ...options,
  });
  if (response.status === 401) {
    window.location.assign("/desk/login");
    throw new Error("signed out");
  }
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error((body && (body.message || (body.detail && body.detail.message))) || response.statusText);
  return body;
}

function minutes(seconds) {
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

async function loadQueue() {
  const {waiting} = await api("/queues");
  const list = $("waiting");
  list.replaceChildren();
  $("queue-empty").hidden = waiting.length > 0;
  for (const handoff of waiting) {
    const item = el("li", null, "waiting-call");
    item.dataset.handoffId = handoff.handoff_id;
    const head = el("div", null, "row");
    const phone = ((handoff.summary_json || {}).caller || {}).phone;
    head.append(el("span", handoff.queue, "badge"), el("span", phone || "", "caller-number"), el("span", `waiting ${minutes(handoff.waiting_s)}`, "muted"));
    item.append(head, el("p", handoff.summary || "(no summary yet)"));
    item.addEventListener("click", () => select(handoff));
    list.append(item);
  }
}

function fact(list, term, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  list.append(el("dt", term), el("dd", Array.isArray(value) ? value.join(" · ") : String(value)));
}

function showSummary(handoff) {
  const summary = handoff.summary_json || {};
  $("call").hidden = false;
  $("call-queue").textContent = handoff.queue;
  $("summary-text").textContent = handoff.summary || "";
  const facts = $("summary-facts");
  facts.replaceChildren();
  const caller = summary.caller || {};
  fact(facts, "Reason", summary.reason_text);
  fact(facts, "Caller", [caller.name || "unknown", caller.phone, caller.tier].filter(Boolean).join(", "));
  fact(facts, "Identity", caller.identity);
  fact(facts, "Orders", (summary.orders || []).map((o) => `${o.order_number} (${o.status.replace(/_/g, " ")})`));
  fact(facts, "Intents", summary.intents);
  fact(facts, "Bot did", (summary.bot_actions || []).map((a) => a.text));
  fact(facts, "Emotion", (summary.emotion || {}).trajectory);
  fact(facts, "Caller said", (summary.quotes || []).map((q) => `“${q}”`));
  fact(facts, "Next", summary.recommended_action);
}

function select(handoff) {
  state.selected = handoff;
  showSummary(handoff);
  $("accept").hidden = false;
  $("accept-error").hidden = true;
  for (const id of ["context-card", "transcript-card", "wrap-up", "audio-card"]) $(id).hidden = true;
  $("wrap-up-result").hidden = true;
  $("save-wrap-up").disabled = false;
}

function addTurn(turn) {
  const list = $("transcript");
  if (turn.caller_text) list.append(el("li", `Caller${turn.emotion && turn.emotion !== "neutral" ? ` (${turn.emotion})` : ""}: ${turn.caller_text}`, "caller"));
  if (turn.bot_text) list.append(el("li", `Bot: ${turn.bot_text}`, "bot"));
}

function showContext(context) {
  const customer = context.customer;
  const box = $("customer");
  box.replaceChildren(
    customer
      ? el("p", `${customer.name} · ${customer.phone} · ${customer.tier} · ${customer.language}`)
      : el("p", "Caller not matched to a customer.", "muted"),
  );
  const orders = $("orders");
  orders.replaceChildren();
  for (const order of context.orders) {
    const card = el("div", null, "order");
    card.dataset.orderNumber = order.order_number;
    card.append(el("h3", `Order ${order.order_number} · ${order.status.replace(/_/g, " ")}`));
    const lines = [`${order.items.length} item(s), $${order.total.toFixed(2)}, paid by ${order.payment_method}`];
    if (order.carrier) lines.push(`${order.carrier} ${order.tracking_number || ""}${order.last_event ? ` — ${order.last_event.description}` : ""}`);
    if (order.expected_delivery) lines.push(`expected ${order.expected_delivery.slice(0, 10)}`);
    if (order.delivered_at) lines.push(`delivered ${order.delivered_at.slice(0, 10)}`);
    for (const refund of order.refunds) lines.push(`refund $${refund.amount.toFixed(2)}: ${refund.status}`);
    for (const line of lines) card.append(el("p", line));
    orders.append(card);
  }
  const history = $("history");
  history.replaceChildren();
  for (const call of context.past_calls) history.append(el("li", `Call ${call.started_at.slice(0, 16).replace("T", " ")}: ${call.outcome || "in progress"}`));
  for (const ticket of context.tickets) history.append(el("li", `Ticket #${ticket.id} (${ticket.kind.replace(/_/g, " ")}, ${ticket.status}): ${ticket.subject}`));
  if (!history.children.length) history.append(el("li", "None.", "muted"));
  $("transcript").replaceChildren();
  for (const turn of context.transcript) addTurn(turn);
  $("wrap-up-notes").value = context.wrap_up_draft;
  const select = $("disposition");
  select.replaceChildren();
  for (const [code, label] of Object.entries(context.dispositions)) {
    const option = el("option", label);
    option.value = code;
    select.append(option);
  }
  for (const id of ["context-card", "transcript-card", "wrap-up"]) $(id).hidden = false;
}

// Talking to a phone caller: the microphone goes to the engine as 16 kHz 16-bit PCM,
// the caller's line comes back the same way and is played as it arrives.
async function startAudio(path) {
  const card = $("audio-card");
  const status = $("audio-status");
  card.hidden = false;
  let microphone;
  try {
    microphone = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: true}});
  } catch (error) {
    status.textContent = `No microphone: ${error.message}`;
    return;
  }
  // The socket opens only now, with its handlers attached at once: none of its events can be missed.
  const context = new AudioContext({sampleRate: 16000});
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}${path}`);
  socket.binaryType = "arraybuffer";
  const source = context.createMediaStreamSource(microphone);
  const tap = context.createScriptProcessor(1024, 1, 1);
  tap.onaudioprocess = (event) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const samples = event.inputBuffer.getChannelData(0);
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-1, Math.min(1, samples[i])) * 0x7fff;
    socket.send(pcm.buffer);
  };
  source.connect(tap);
  tap.connect(context.destination); // the tap writes no output: nothing of the agent is played back
  let playAt = 0;
  let received = 0;
  socket.addEventListener("open", () => (status.textContent = "Talking with the caller."));
  socket.addEventListener("message", (message) => {
    const pcm = new Int16Array(message.data);
    const buffer = context.createBuffer(1, pcm.length, 16000);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 0x8000;
    const node = context.createBufferSource();
    node.buffer = buffer;
    node.connect(context.destination);
    playAt = Math.max(playAt, context.currentTime + 0.05);
    node.start(playAt);
    playAt += buffer.duration;
    received += message.data.byteLength;
    status.dataset.bytes = String(received);
  });
  socket.addEventListener("close", () => {
    status.textContent = "The call has ended.";
    microphone.getTracks().forEach((track) => track.stop());
    tap.disconnect();
    context.close();
  });
  $("hang-up").onclick = () => socket.close();
}

async function accept() {
  const handoff = state.selected;
  try {
    await api(`/handoffs/${handoff.handoff_id}/accept`, {method: "POST"});
  } catch (error) {
    $("accept-error").textContent = error.message;
    $("accept-error").hidden = false;
    return;
  }
  state.accepted = handoff;
  $("accept").hidden = true;
  const context = await api(`/handoffs/${handoff.handoff_id}/context`);
  showContext(context);
  if (context.audio_path) startAudio(context.audio_path);
  await loadQueue();
}

async function saveWrapUp(event) {
  event.preventDefault();
  const result = await api(`/handoffs/${state.accepted.handoff_id}/wrap-up`, {
    method: "POST",
    body: JSON.stringify({notes: $("wrap-up-notes").value, disposition: $("disposition").value}),
  });
  const status = $("wrap-up-result");
  status.textContent = `Saved as ticket #${result.ticket_id} (${result.disposition}).`;
  status.hidden = false;
  $("save-wrap-up").disabled = true;
  state.accepted = null;
}

async function loadOverview() {
  const overview = await api("/overview");
  const queues = $("queue-table").tBodies[0];
  queues.replaceChildren();
  for (const q of overview.queues) {
    const row = el("tr");
    row.append(el("td", q.queue), el("td", String(q.waiting)), el("td", minutes(q.longest_wait_s)));
    queues.append(row);
  }
  const t = overview.today;
  $("today").textContent = `Bot-resolved ${t.bot_resolved} · handed off ${t.handed_off} · abandoned ${t.abandoned} · failed ${t.failed} · in progress ${t.in_progress}`;
  const calls = $("calls-table").tBodies[0];
  calls.replaceChildren();
  for (const c of overview.calls) {
    const row = el("tr");
    row.append(el("td", c.started_at.slice(11, 19)), el("td", c.caller || "—"), el("td", c.channel), el("td", c.outcome), el("td", c.queue || "—"));
    calls.append(row);
  }
}

function show(view) {
  $("calls-view").hidden = view !== "calls";
  $("supervisor-view").hidden = view !== "supervisor";
  $("tab-calls").classList.toggle("active", view === "calls");
  $("tab-supervisor").classList.toggle("active", view === "supervisor");
  if (view === "supervisor") loadOverview();
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/desk/events`);
  socket.addEventListener("open", () => ($("stream-status").textContent = "live"));
  socket.addEventListener("close", () => {
    $("stream-status").textContent = "reconnecting…";
    setTimeout(connect, 2000);
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type.startsWith("handoff.")) {
      loadQueue();
      if (!$("supervisor-view").hidden) loadOverview();
    }
    if (event.type === "handoff.updated" && state.selected && event.data.handoff_id === state.selected.handoff_id) {
      state.selected = {...state.selected, summary: event.data.summary.text, summary_json: event.data.summary};
      showSummary(state.selected);
    }
    if (event.type === "call.turn" && state.accepted && event.data.call_id === state.accepted.call_id) addTurn(event.data);
  });
}

async function start() {
  state.agent = await api("/me");
  $("agent-name").textContent = `${state.agent.display_name} (${state.agent.role})`;
  $("tab-supervisor").hidden = state.agent.role !== "supervisor";
  $("tab-calls").addEventListener("click", () => show("calls"));
  $("tab-supervisor").addEventListener("click", () => show("supervisor"));
  $("accept").addEventListener("click", accept);
  $("wrap-up").addEventListener("submit", saveWrapUp);
  $("sign-out").addEventListener("click", async () => {
    await api("/session", {method: "DELETE"});
    window.location.assign("/desk/login");
  });
  await loadQueue();
  connect();
}

start();
