'use strict';
/**
 * A local Direct Line channel for the browser tests: offline-directline's express router,
 * bound to 127.0.0.1, with its quirks fixed here (never in the bot).
 *
 * Web Chat <-> /directline/...  (Direct Line 3.0 client API, polling)
 * bot      <-> /v3/conversations/...  (Bot Connector API the bot posts its messages to)
 *
 * What offline-directline 1.3.1 gets wrong, and what this file does about it:
 * - Its own conversationUpdate has an empty membersAdded, no recipient and a made-up sender,
 *   so a bot never sees the user join. The relay swallows that one; after the conversation is
 *   created this file sends the one a real channel sends (membersAdded [bot, user], from the
 *   user, to the bot) through the bridge's client route, so the bridge stores and forwards it
 *   as it does every client activity. The user comes from the Direct Line token, as with a
 *   token bound to a user id.
 * - It forwards to the bot with a fetch that has no catch: an unreachable bot is an unhandled
 *   rejection, which ends the Node process. Its bot URL points at the relay below, which
 *   always answers (502 when the bot is down, 504 when it hangs).
 * - It adds no timestamps: added here as the channel's clock, for both directions.
 * - Messages from Web Chat reach the bot without a recipient: the bot's account is added.
 * - The bot's posts get `from: {id: "id", name: "Bot"}` (no role, so Web Chat's "is this from
 *   the bot" checks fail) and an empty 200 body: the bot's own `from` is put back and the
 *   answer is a ResourceResponse `{id}` like the Bot Connector's.
 * - It has no route to update an activity (PUT): added below. Routes it declares but never
 *   answers (members, upload, stream, ...) and deleting an activity answer 501 at once.
 * - `initializeRoutes` listens on every interface: the router is mounted on our own server,
 *   which listens on 127.0.0.1 only.
 * Left as they are: every client activity reaches the bot with channelId "emulator"; the
 * answer to Web Chat's post waits for the bot's whole turn (real Direct Line answers at once),
 * so a message shows as sending until the replies are out; no web socket, so Web Chat polls.
 */

const express = require('express');
const { getRouter } = require('offline-directline');

const BOT_ACCOUNT = { id: 'nudge-bot', name: 'Nudge', role: 'bot' };
const TOKEN_PREFIX = 'e2e-user.';
const BOT_TIMEOUT_MS = 30000;

/** The Direct Line token the page uses for `user`: the glue reads the user back from it. */
function tokenFor(user) {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(user)).toString('base64url');
}

function userFromToken(header) {
  const match = /^Bearer (.+)$/.exec(header || '');
  if (!match || !match[1].startsWith(TOKEN_PREFIX)) return null;
  try {
    const user = JSON.parse(Buffer.from(match[1].slice(TOKEN_PREFIX.length), 'base64url').toString());
    return typeof user.id === 'string' && user.id ? { id: user.id, name: user.name || 'User', role: 'user' } : null;
  } catch (error) {
    return null;
  }
}

/** Run `after(body)` right after the route handler answers (synchronously, before anyone reads). */
function onAnswer(res, after) {
  const send = res.send.bind(res);
  res.send = (body) => {
    res.send = send;
    const replaced = after(body);
    return send(replaced === undefined ? body : replaced);
  };
}

/**
 * Mount the Direct Line emulator on `app`.
 *
 * @param {import('express').Express} app the server, which must listen on 127.0.0.1 at `baseUrl`
 * @param {object} options
 * @param {string} options.baseUrl this server's URL: the serviceUrl the bot posts back to
 * @param {string} options.botUrl the bot's /api/messages
 * @param {(entry: object) => void} options.log gets every activity that crosses the channel
 */
function mountDirectLine(app, { baseUrl, botUrl, log }) {
  const now = () => new Date().toISOString();
  app.use(express.json({ limit: '1mb' }));

  // Web Chat creates a conversation: note who (from the token), give the token back
  // (real Direct Line does; directlinejs keeps using it), then let the user join.
  app.post('/directline/conversations', (req, res, next) => {
    const user = userFromToken(req.get('authorization'));
    if (!user) {
      res.status(403).json({ error: { code: 'BadArgument', message: 'e2e glue: token not bound to a user' } });
      return;
    }
    onAnswer(res, (body) => {
      if (res.statusCode >= 300 || !body || !body.conversationId) return undefined;
      setImmediate(() => join(body.conversationId, user));
      return { ...body, token: tokenFor(user) };
    });
    next();
  });

  async function join(conversationId, user) {
    const activity = {
      type: 'conversationUpdate',
      from: user,
      recipient: BOT_ACCOUNT,
      membersAdded: [BOT_ACCOUNT, { id: user.id, name: user.name }],
      membersRemoved: [],
    };
    try {
      const response = await fetch(`${baseUrl}/directline/conversations/${encodeURIComponent(conversationId)}/activities`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokenFor(user)}` },
        body: JSON.stringify(activity),
      });
      log({ event: 'join', conversationId, user: user.id, status: response.status });
    } catch (error) {
      log({ event: 'join-failed', conversationId, error: String(error) });
    }
  }

  // Web Chat (or the join above) sends an activity: the channel stamps it and addresses it.
  app.post('/directline/conversations/:conversationId/activities', (req, res, next) => {
    req.body.timestamp = now();
    req.body.recipient = req.body.recipient || BOT_ACCOUNT;
    onAnswer(res, () => {
      log({ event: 'to-bot', status: res.statusCode, conversationId: req.params.conversationId, activity: req.body });
    });
    next();
  });

  // The bot posts (a reply within a turn, or a proactive message).
  const fromBot = (req, res, next) => {
    const activity = req.body;
    const from = activity.from && activity.from.id ? { role: 'bot', ...activity.from } : BOT_ACCOUNT;
    activity.timestamp = now();
    onAnswer(res, () => {
      // The router has stored this very object (and overwritten its sender): put the sender back.
      activity.from = from;
      log({
        event: 'from-bot',
        status: res.statusCode,
        conversationId: req.params.conversationId,
        replyTo: req.params.activityId || null,
        activity,
      });
      return res.statusCode === 200 ? { id: activity.id } : undefined;
    });
    next();
  };
  app.post('/v3/conversations/:conversationId/activities', fromBot);
  app.post('/v3/conversations/:conversationId/activities/:activityId', fromBot);

  // The bot updates one of its activities (e.g. a card after its button was pressed). The
  // router has no route for it; real Direct Line sends the new version with the same id,
  // which Web Chat puts in place of the old one. So: store it through the router's post
  // route, then give it back its id.
  app.put('/v3/conversations/:conversationId/activities/:activityId', (req, res, next) => {
    const activity = req.body;
    const { conversationId, activityId } = req.params; // the router's route replaces req.params
    const from = activity.from && activity.from.id ? { role: 'bot', ...activity.from } : BOT_ACCOUNT;
    activity.timestamp = now();
    onAnswer(res, () => {
      activity.id = activityId;
      activity.from = from;
      log({ event: 'update-from-bot', status: res.statusCode, conversationId, activity });
      return res.statusCode === 200 ? { id: activity.id } : undefined;
    });
    req.method = 'POST';
    req.url = `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;
    next('route');
  });

  // The bridge forwards to the bot through this relay (its own fetch must never fail).
  app.post('/relay/api/messages', async (req, res) => {
    const activity = req.body;
    if (activity.type === 'conversationUpdate' && activity.from && activity.from.id === 'offline-directline') {
      res.status(200).json({}); // the bridge's own, empty join: replaced by join() above
      return;
    }
    try {
      const response = await fetch(botUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(activity),
        signal: AbortSignal.timeout(BOT_TIMEOUT_MS),
      });
      const text = await response.text();
      res.status(response.status).type(response.headers.get('content-type') || 'application/json').send(text);
    } catch (error) {
      const timedOut = error && error.name === 'TimeoutError';
      log({ event: 'bot-unreachable', error: String(error) });
      res.status(timedOut ? 504 : 502).json({ error: `e2e glue: bot ${timedOut ? 'timed out' : 'unreachable'}: ${error}` });
    }
  });

  // Routes the router declares but never answers (it only logs "not implemented"), and every
  // route it lacks (updating or deleting an activity, ...): 501 at once instead of a hang.
  const notEmulated = (req, res) => {
    log({ event: 'not-emulated', method: req.method, path: req.path });
    res.status(501).json({ error: { code: 'NotImplemented', message: `e2e glue: ${req.method} ${req.path} is not emulated` } });
  };
  app.get('/v3/directline/conversations/:conversationId', notEmulated);
  app.post('/v3/directline/conversations/:conversationId/upload', notEmulated);
  app.get('/v3/directline/conversations/:conversationId/stream', notEmulated);
  app.post('/v3/conversations', notEmulated);
  app.get('/v3/conversations/:conversationId/members', notEmulated);
  app.get('/v3/conversations/:conversationId/activities/:activityId/members', notEmulated);

  // offline-directline's own router, with the relay as its bot.
  app.use(getRouter(baseUrl, `${baseUrl}/relay/api/messages`));
  app.use(notEmulated);
}

module.exports = { mountDirectLine, tokenFor, BOT_ACCOUNT };
