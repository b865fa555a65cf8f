// sessionflow nodes for Node-RED: a server (config) node, and nodes that send an event to a session (opens
// or joins it), make a request (answer on output 1, refusal with its code on output 2), read a status, and
// follow state changes. Kinds, events and requests come from the API's registry, so a new session kind
// needs no change here.
'use strict';

const client = require('../lib/client');

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
   * Follows the sessions of a kind (or all the token may see) and sends a message whenever one changes
   * state or closes. It reads the API's session list (Temporal visibility) every few seconds.
   */
  function SessionflowChanges(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server);
    const everyMs = Math.max(1, Number(config.interval) || 5) * 1000;
    const seen = new Map();
    let first = true;
    let stopped = false;
    let timer;
    const poll = async () => {
      if (!server || !server.url) return node.status({ fill: 'red', shape: 'ring', text: 'no server' });
      const r = await client.list(server, config.kind, 200);
      if (!r.ok) {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: (r.body && r.body.error && r.body.error.code) || r.status,
        });
        return;
      }
      node.status({ fill: 'green', shape: 'dot', text: `${r.body.sessions.length} sessions` });
      for (const s of r.body.sessions) {
        const mark = `${s.state}|${s.status}`;
        const before = seen.get(s.workflowId);
        seen.set(s.workflowId, mark);
        if (before === mark || (first && !config.initial)) continue;
        node.send({
          topic: `sessionflow/${s.kind}/${s.key}/state`,
          payload: {
            kind: s.kind,
            key: s.key,
            state: s.state,
            workflowStatus: s.status,
            startedAt: s.startedAt,
            closedAt: s.closedAt,
          },
        });
      }
      first = false;
    };
    const loop = async () => {
      await poll().catch((err) => node.error(err));
      if (!stopped) timer = setTimeout(loop, everyMs);
    };
    timer = setTimeout(loop, 0);
    node.on('close', () => {
      stopped = true;
      clearTimeout(timer);
    });
  }
  RED.nodes.registerType('sessionflow-changes', SessionflowChanges);
};
