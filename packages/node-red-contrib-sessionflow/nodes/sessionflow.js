// sessionflow nodes for Node-RED: a server (config) node, and nodes that send an event to a session (opens
// or joins it), make a request (answer on output 1, refusal with its code on output 2), read a status, and
// follow state changes. Kinds, events and requests come from the API's registry, so a new session kind
// needs no change here.
'use strict';

const { EventSource } = require('eventsource');
const client = require('../lib/client');

/** Pause before a change stream the API refused is opened again. */
const RETRY_MS = 3000;

module.exports = function (RED) {
  function SessionflowServer(config) {
    RED.nodes.createNode(this, config);
    this.url = config.url;
    this.token = this.credentials && this.credentials.token;
  }
  RED.nodes.registerType('sessionflow-server', SessionflowServer, {
    credentials: { token: { type: 'password' } },
  });

  /** The editor lists kinds, events and requests from the deployed server's registry. */
  RED.httpAdmin.get(
    '/sessionflow/:server/kinds',
    RED.auth.needsPermission('flows.read'),
    async (req, res) => {
      const server = RED.nodes.getNode(req.params.server);
      if (!server || !server.url) {
        res
          .status(404)
          .json({ error: { code: 'no-server', message: 'deploy the sessionflow server node first' } });
        return;
      }
      const r = await client.kinds(server);
      res.status(r.status || 502).json(r.body);
    },
  );

  /**
   * A node that makes one call per message: the kind, key and name come from the node or the message
   * (msg.kind, msg.key, msg.event / msg.request), the body from msg.payload.
   */
  function callNode(type, what, run) {
    function SessionCall(config) {
      RED.nodes.createNode(this, config);
      const node = this;
      const server = RED.nodes.getNode(config.server);
      node.on('input', async (msg, send, done) => {
        const kind = msg.kind || config.kind;
        const key = msg.key !== undefined && msg.key !== '' ? msg.key : config.key;
        const name = msg[what] || config[what];
        const refuse = (status, code, message) => {
          msg.statusCode = status;
          msg.payload = { status, code, message };
          node.status({ fill: 'red', shape: 'ring', text: code });
          send([null, msg]);
          done();
        };
        if (!server || !server.url) return refuse(0, 'no-server', 'no sessionflow server configured');
        if (!kind || !key || (what && !name))
          return refuse(
            400,
            'bad-request',
            `set the kind, the key${what ? ` and the ${what}` : ''} (on the node or the message)`,
          );
        node.status({ fill: 'blue', shape: 'dot', text: `${kind} ${key}` });
        try {
          const r = await run(server, kind, key, name, msg.payload);
          if (!r.ok) {
            const error = (r.body && r.body.error) || {};
            return refuse(r.status, error.code || 'error', error.message || `answered ${r.status}`);
          }
          msg.statusCode = r.status;
          msg.payload = r.body;
          node.status({ fill: 'green', shape: 'dot', text: (r.body && r.body.state) || String(r.status) });
          send([msg, null]);
          done();
        } catch (err) {
          done(err);
        }
      });
    }
    RED.nodes.registerType(type, SessionCall);
  }

  const body = (payload) =>
    payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : {};
  callNode('sessionflow-event', 'event', (server, kind, key, event, payload) =>
    client.event(server, kind, key, event, body(payload)),
  );
  callNode('sessionflow-request', 'request', (server, kind, key, request, payload) =>
    client.request(server, kind, key, request, body(payload)),
  );
  callNode('sessionflow-status', '', (server, kind, key) => client.status(server, kind, key));

  /**
   * Sends every state change of the sessions of a kind (or of all the token may see), as the API streams
   * them (`GET /sessions/changes`, server-sent events). A dropped stream resumes after the last change it
   * delivered (Last-Event-ID), so none is missed or sent twice; a refused one (the API restarting, a bad
   * token) is opened again a few seconds later from there.
   */
  function SessionflowChanges(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server);
    if (!server || !server.url) {
      node.status({ fill: 'red', shape: 'ring', text: 'no server' });
      return;
    }
    // With `initial`, every change the API's log still has first; otherwise only those from now on.
    let lastId = config.initial ? '0' : undefined;
    let source;
    let retry;
    let closed = false;
    const open = () => {
      const url = new URL('sessions/changes', server.url.replace(/\/?$/, '/'));
      if (config.kind) url.searchParams.set('kind', config.kind);
      if (lastId !== undefined) url.searchParams.set('after', lastId);
      source = new EventSource(url, {
        fetch: (input, init) =>
          fetch(input, {
            ...init,
            headers: { ...init.headers, authorization: `Bearer ${server.token}` },
          }),
      });
      source.addEventListener('open', () => node.status({ fill: 'green', shape: 'dot', text: 'following' }));
      source.addEventListener('change', (e) => {
        lastId = e.lastEventId;
        let change;
        try {
          change = JSON.parse(e.data);
        } catch {
          return node.warn(`not a session change: ${String(e.data).slice(0, 80)}`);
        }
        node.send({ topic: `sessionflow/${change.kind}/${change.key}/state`, payload: change });
      });
      source.addEventListener('reset', (e) => {
        lastId = e.lastEventId;
        node.warn('some changes were missed: the API no longer keeps them; following from its newest');
      });
      source.addEventListener('error', (e) => {
        node.status({ fill: 'red', shape: 'ring', text: e.code ? String(e.code) : 'reconnecting' });
        // EventSource reconnects by itself after a dropped connection; an answer other than the stream
        // (401, 403, 503) closes it for good, so we open it again ourselves.
        if (source.readyState === EventSource.CLOSED && !closed) retry = setTimeout(open, RETRY_MS);
      });
    };
    open();
    node.on('close', () => {
      closed = true;
      clearTimeout(retry);
      source.close();
    });
  }
  RED.nodes.registerType('sessionflow-changes', SessionflowChanges);
};
