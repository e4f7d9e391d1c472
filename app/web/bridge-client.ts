/**
 * The script the web host serves at /__sirius/bridge.js: it installs `window.sirius` (the
 * SiriusBridge of app/contract) over the host's WebSocket, so the renderer runs in a plain
 * browser unchanged. It is plain ES5-style browser JavaScript, built here as text with the
 * contract's method and event names filled in.
 *
 * - The token comes in the page URL's fragment (`#token=…`, never sent to a server by the
 *   browser); the script keeps it in sessionStorage (so a reload works) and removes it from the
 *   address bar.
 * - It connects to ws(s)://<same host>/ws offering the subprotocols `sirius` and
 *   `sirius-token.<token>`, and reconnects with backoff (250 ms doubling to 5 s) when the
 *   connection drops, telling subscribers of 'backend.status'.
 * - invoke() rejects (TypeError) only for a method name outside the contract; everything else
 *   resolves with a Result: requests unanswered when the connection drops resolve with
 *   'backend_unavailable', requests waiting longer than two minutes with 'timeout'.
 */
import { EVENT_NAMES, METHOD_NAMES } from '../contract/wire';

export const BRIDGE_SCRIPT_PATH = '/__sirius/bridge.js';

/** The WebSocket subprotocol the client offers and the host selects. */
export const WS_PROTOCOL = 'sirius';
/** Prefix of the subprotocol that carries the token. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'sirius-token.';

export function bridgeClientScript(): string {
  return `(function () {
  'use strict';
  var METHODS = ${JSON.stringify(METHOD_NAMES)};
  var EVENTS = ${JSON.stringify(EVENT_NAMES)};
  var TOKEN_KEY = 'sirius.web.token';
  var REQUEST_TIMEOUT_MS = 120000;

  var token = null;
  var found = /(?:^#|&)token=([A-Za-z0-9_-]{16,128})/.exec(window.location.hash);
  if (found) {
    token = found[1];
    try { window.sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* storage off: this page only */ }
    var rest = window.location.hash.replace(/(^#|&)token=[A-Za-z0-9_-]+/, '$1').replace(/^#&/, '#');
    try {
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search + (rest === '#' ? '' : rest));
    } catch (e) { /* keep the address as it is */ }
  } else {
    try { token = window.sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  }

  function fail(code, message) { return { ok: false, error: { code: code, message: message } }; }
  function isResult(r) {
    if (typeof r !== 'object' || r === null) return false;
    if (r.ok === true) return 'value' in r;
    return r.ok === false && typeof r.error === 'object' && r.error !== null &&
      typeof r.error.code === 'string' && typeof r.error.message === 'string';
  }

  var listeners = {};
  var pending = {};
  var queue = [];
  var nextId = 1;
  var socket = null;
  var ready = false;
  var delay = 250;

  function emit(event, payload) {
    var set = listeners[event];
    if (!set) return;
    set.slice().forEach(function (cb) {
      try { cb(payload); } catch (e) { console.error(e); }
    });
  }

  function connect() {
    if (!token) {
      emit('backend.status', { connected: false });
      console.error('Sirius web host: open the address the host printed (it carries the access token).');
      return;
    }
    var url = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/ws';
    var ws;
    try {
      ws = new WebSocket(url, ['${WS_PROTOCOL}', '${WS_TOKEN_PROTOCOL_PREFIX}' + token]);
    } catch (e) {
      retry();
      return;
    }
    socket = ws;
    ws.onmessage = function (e) {
      if (typeof e.data !== 'string') return;
      var msg;
      try { msg = JSON.parse(e.data); } catch (x) { return; }
      if (typeof msg !== 'object' || msg === null) return;
      if (msg.type === 'ready') {
        ready = true;
        delay = 250;
        emit('backend.status', { connected: true });
        var waiting = queue;
        queue = [];
        waiting.forEach(function (item) {
          var p = pending[item.id];
          if (!p) return;
          p.sent = true;
          ws.send(item.text);
        });
      } else if (msg.type === 'response') {
        var p = pending[msg.id];
        if (!p) return;
        delete pending[msg.id];
        p.settle(isResult(msg.result) ? msg.result : fail('bad_response', 'malformed response'));
      } else if (msg.type === 'event') {
        if (EVENTS.indexOf(msg.event) >= 0) emit(msg.event, msg.payload);
      }
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      var wasReady = ready;
      ready = false;
      Object.keys(pending).forEach(function (id) {
        var p = pending[id];
        if (p.sent) {
          delete pending[id];
          p.settle(fail('backend_unavailable', 'the connection to the backend was lost'));
        }
      });
      if (wasReady) emit('backend.status', { connected: false });
      retry();
    };
  }

  function retry() {
    setTimeout(connect, delay);
    delay = Math.min(5000, delay * 2);
  }

  function invoke(method, params) {
    if (METHODS.indexOf(method) < 0) return Promise.reject(new TypeError('method must be a method name of the contract'));
    return new Promise(function (resolve) {
      var id = nextId++;
      var timer = setTimeout(function () {
        if (!pending[id]) return;
        delete pending[id];
        resolve(fail('timeout', 'the backend did not answer in time'));
      }, REQUEST_TIMEOUT_MS);
      var text = JSON.stringify({ type: 'request', id: id, method: method, params: params });
      var entry = { sent: false, settle: function (r) { clearTimeout(timer); resolve(r); } };
      pending[id] = entry;
      if (ready && socket) {
        entry.sent = true;
        socket.send(text);
      } else {
        queue.push({ id: id, text: text });
      }
    });
  }

  function subscribe(event, callback) {
    if (EVENTS.indexOf(event) < 0) throw new TypeError('event must be an event name of the contract');
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    var set = listeners[event] || (listeners[event] = []);
    var fn = function (payload) { callback(payload); };
    set.push(fn);
    return function () {
      var i = set.indexOf(fn);
      if (i >= 0) set.splice(i, 1);
    };
  }

  Object.defineProperty(window, 'sirius', {
    value: Object.freeze({ invoke: invoke, subscribe: subscribe }),
    enumerable: true,
    configurable: false,
    writable: false,
  });
  connect();
})();
`;
}
