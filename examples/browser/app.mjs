// The browser port of the bidirectional example (examples/go/bidi-client): wait until the
// server calls allow_queries(), call concat("hello", " world"), then wait for the server's
// allow_exit(delay). Everything exchanged is listed on the page.
import { connect } from "./js/wsrpc.mjs";

const params = new URLSearchParams(location.search);
const url = params.get("url") ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const $ = (id) => document.getElementById(id);
const status = (state, text = state) => { $("status").dataset.state = state; $("status").textContent = text; };
const log = (kind, text) => {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = text;
  $("log").append(li);
};
$("url").textContent = url;

let allowQueries;
const queriesAllowed = new Promise((r) => { allowQueries = r; });
let allowExit;
const exitAllowed = new Promise((r) => { allowExit = r; });

try {
  const client = await connect(url, {
    methods: {
      // Called by the server about a second after we connect.
      allow_queries: () => {
        log("cb", "server called allow_queries()");
        allowQueries();
      },
      // Called by the server after each concat, with a delay of 1-4 s.
      allow_exit: ({ delay }) => {
        log("cb", `server called allow_exit(delay=${delay})`);
        setTimeout(allowExit, delay * 1000);
      },
    },
    on: { disconnect: (e) => log("err", `disconnected (${e.code}${e.error ? ": " + e.error : ""})`) },
  });
  window.wsrpcClient = client; // for the console
  status("connected");
  log("in", `connected, channel ${client.channelId}`);

  const concat = async (a, b) => {
    log("out", `concat(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    try {
      log("in", JSON.stringify(await client.call("concat", { a, b }, { timeout: 5000 }))); // ms
    } catch (e) {
      log("err", `${e.name}: ${e.message}${e.code !== undefined ? ` (code ${e.code})` : ""}`);
    }
  };
  $("form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    concat($("a").value, $("b").value);
  });

  await queriesAllowed;
  await concat("hello", " world");
  await exitAllowed;
  log("in", "exit allowed: done");
  status("done");
} catch (e) {
  log("err", `${e.name}: ${e.message}`);
  status("error", "error");
}
