// A real, independent ActivityPub peer for fedblog's interop tests: one Fedify actor on 127.0.0.1.
//
// Fedify does the federation work (WebFinger, actor, signatures, verification); this file only adds
// a control API the tests drive and a record of what arrived.  Fedify calls inbox listeners only for
// activities whose signature (HTTP Signatures, RFC 9421 or cavage, or an LD/FEP-8b32 proof) it verified
// and whose signer owns the actor, so everything in /control/inbox was verified by Fedify itself.
//
// Usage: node peer.mjs [--port N] [--username alice] [--name "Alice Peer"] [--max-seconds 300]
// Prints one line `READY {"origin":…,"actor":…,"handle":…}` when listening.  Exits when stdin closes,
// on SIGTERM, or after --max-seconds, so a crashed test run never leaves it behind.

import http from "node:http";
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getConsoleSink } from "@logtape/logtape";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  Like,
  Link,
  Mention,
  Note,
  QuoteRequest,
  Person,
  Reject,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    username: { type: "string", default: "alice" },
    name: { type: "string", default: "Alice Peer" },
    "max-seconds": { type: "string", default: "300" },
    "first-knock": { type: "string", default: "rfc9421" },
  },
});
const USERNAME = args.username;

// Fedify's own log goes to stderr, which the fixture keeps in a file and shows when a test fails.
await configure({
  sinks: { stderr: getConsoleSink({ console: { ...console, debug: console.error, info: console.error } }) },
  loggers: [
    { category: "fedify", lowestLevel: process.env.PEER_DEBUG ? "debug" : "info", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

// ---- What the tests read back -------------------------------------------------------------------

const state = {
  inbox: [], // verified activities, in arrival order
  inboxRequests: [], // every POST to an inbox: status and which signature scheme it carried
  outgoing: [], // every request Fedify made: method, url, signature scheme, status
  errors: [], // inbox listener errors
  following: new Map(), // followed actor id -> { followId, accepted, rejected }
  followers: new Map(), // follower actor id -> follower Person's inbox
  notes: new Map(), // our notes, served at their ids
  reactions: new Map(), // our Likes and Announces, by id, for Undo
};

function signatureScheme(headers) {
  if (headers.get("signature-input")) return "rfc9421";
  if (headers.get("signature")) return "cavage";
  return "none";
}

// Record every outgoing request (Fedify calls the global fetch) so a test can see the double knock.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  const entry = { method: request.method, url: request.url, scheme: signatureScheme(request.headers), status: null };
  state.outgoing.push(entry);
  try {
    const response = await realFetch(input, init);
    entry.status = response.status;
    if (response.status >= 400) entry.reason = (await response.clone().text()).slice(0, 300);
    return response;
  } catch (error) {
    entry.error = String(error?.cause ?? error);
    throw error;
  }
};

// ---- The Fedify federation ----------------------------------------------------------------------

const requestStore = new AsyncLocalStorage(); // raw body of the inbox POST being handled
const keyPairs = [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), await generateCryptoKeyPair("Ed25519")];

let federation; // made once the port is known, so ids carry the real origin

function buildFederation(origin) {
  const fed = createFederation({
    kv: new MemoryKvStore(),
    origin,
    allowPrivateAddress: true, // everything lives on 127.0.0.1
    firstKnock: args["first-knock"] === "cavage" ? "draft-cavage-http-signatures-12" : "rfc9421",
    userAgent: { software: "fedblog-interop-peer/1.0" },
  });

  fed
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: args.name,
        summary: "A Fedify actor that fedblog's interop tests drive.",
        url: new URL(`/@${identifier}`, origin),
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((key) => key.multikey),
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => (identifier === USERNAME ? keyPairs : []));

  fed.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
    if (identifier !== USERNAME) return null;
    const items = [...state.followers.entries()].map(([id, inbox]) => ({
      id: new URL(id),
      inboxId: new URL(inbox),
      endpoints: null,
    }));
    return { items };
  });

  fed.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, values) => {
    const note = state.notes.get(ctx.getObjectUri(Note, values).href);
    return note ?? null;
  });

  fed
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, async (ctx, follow) => {
      await record(ctx, follow);
      const follower = await follow.getActor(ctx);
      if (follower?.id == null || follower.inboxId == null) return;
      state.followers.set(follower.id.href, follower.inboxId.href);
      await ctx.sendActivity(
        { identifier: USERNAME },
        follower,
        new Accept({ id: newId(ctx, "accepts"), actor: ctx.getActorUri(USERNAME), object: follow }),
      );
    })
    .on(Accept, async (ctx, accept) => {
      const entry = await record(ctx, accept);
      markFollow(accept.actorId, entry.objectId, "accepted");
    })
    .on(Reject, async (ctx, reject) => {
      const entry = await record(ctx, reject);
      markFollow(reject.actorId, entry.objectId, "rejected");
    })
    .on(Activity, async (ctx, activity) => {
      await record(ctx, activity);
    })
    .onError((_ctx, error) => {
      state.errors.push(String(error?.stack ?? error));
    });

  return fed;
}

function newId(ctx, kind) {
  return new URL(`/users/${USERNAME}/${kind}/${randomUUID()}`, ctx.origin);
}

function markFollow(actorId, followId, outcome) {
  const follow = actorId == null ? null : state.following.get(actorId.href);
  if (follow != null && (followId == null || followId === follow.followId)) follow[outcome] = true;
}

// The raw JSON as it arrived, plus the few fields Fedify parsed: tests assert on both.
async function record(ctx, activity) {
  const raw = requestStore.getStore()?.body ?? null;
  const rawObject = raw?.object;
  const entry = {
    id: activity.id?.href ?? null,
    type: activity.constructor.name,
    actor: activity.actorId?.href ?? null,
    objectId: typeof rawObject === "string" ? rawObject : (rawObject?.id ?? activity.objectId?.href ?? null),
    recipient: ctx.recipient,
    scheme: requestStore.getStore()?.scheme ?? null,
    verified: true, // Fedify calls listeners only after verifying the signature and the key's owner
    raw,
    parsed: null,
  };
  if (activity instanceof Create || activity instanceof Update) {
    try {
      entry.parsed = await describeObject(await activity.getObject(ctx));
    } catch (error) {
      entry.parseError = String(error);
    }
  }
  state.inbox.push(entry);
  return entry;
}

async function describeObject(object) {
  if (object == null) return null;
  const tags = [];
  for await (const tag of object.getTags?.() ?? []) {
    tags.push({ type: tag.constructor.name, name: tag.name?.toString() ?? null, href: tag.href?.href ?? null });
  }
  return {
    type: object.constructor.name,
    id: object.id?.href ?? null,
    attributedTo: object.attributionId?.href ?? null,
    content: object.content?.toString() ?? null,
    summary: object.summary?.toString() ?? null,
    url: object.url instanceof Link ? object.url.href?.href : (object.url?.href ?? null),
    inReplyTo: object.replyTargetId?.href ?? null,
    to: object.toIds.map((u) => u.href),
    cc: object.ccIds.map((u) => u.href),
    published: object.published?.toString() ?? null,
    updated: object.updated?.toString() ?? null,
    tags,
  };
}

// ---- The control API ----------------------------------------------------------------------------

async function lookupActor(ctx, target) {
  const actor = await ctx.lookupObject(target);
  if (actor == null || actor.inboxId == null) {
    throw new ControlError(404, `no actor found for ${target}: ${await diagnose(target)}`);
  }
  return actor;
}

// Fedify's lookupObject() only says null: fetch the WebFinger or the object by hand to tell the test why.
async function diagnose(target) {
  const handle = /^@?([^@/]+)@([^@/]+)$/.exec(target.replace(/^acct:/, ""));
  const url = handle
    ? `https://${handle[2]}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${handle[1]}@${handle[2]}`)}`
    : target;
  try {
    const response = await realFetch(url, { headers: { accept: "application/jrd+json, application/activity+json" } });
    const text = await response.text();
    return `GET ${url} -> ${response.status} ${response.headers.get("content-type")}: ${text.slice(0, 600)}`;
  } catch (error) {
    return `GET ${url} failed: ${error?.cause ?? error}`;
  }
}

async function loaderOptions(ctx, body) {
  return body.signed ? { documentLoader: await ctx.getDocumentLoader({ identifier: USERNAME }) } : {};
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const control = {
  "GET /control/state": () => ({
    inbox: state.inbox,
    inboxRequests: state.inboxRequests,
    outgoing: state.outgoing,
    errors: state.errors,
    following: Object.fromEntries(state.following),
    followers: [...state.followers.keys()],
  }),

  // `signed: true` fetches with alice's key, as servers in authorized-fetch mode require.
  "POST /control/lookup": async (ctx, body) => {
    const object = await ctx.lookupObject(body.uri, await loaderOptions(ctx, body));
    if (object == null) throw new ControlError(404, `lookup failed for ${body.uri}: ${await diagnose(body.uri)}`);
    const keys = [];
    for await (const key of object.getPublicKeys?.() ?? []) {
      keys.push({ id: key.id?.href, owner: key.ownerId?.href, algorithm: key.publicKey?.algorithm?.name ?? null });
    }
    return {
      type: object.constructor.name,
      id: object.id?.href,
      preferredUsername: object.preferredUsername?.toString() ?? null,
      name: object.name?.toString() ?? null,
      inbox: object.inboxId?.href ?? null,
      sharedInbox: object.endpoints?.sharedInbox?.href ?? null,
      publicKeys: keys,
      object: await describeObject(object).catch(() => null),
      json: await object.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }),
    };
  },

  // The ids of a collection's items, page after page, as Fedify walks it (at most `limit`).
  "POST /control/traverse": async (ctx, body) => {
    const options = await loaderOptions(ctx, body);
    const collection = await ctx.lookupObject(body.uri, options);
    if (collection == null) throw new ControlError(404, `lookup failed for ${body.uri}: ${await diagnose(body.uri)}`);
    const items = [];
    for await (const item of ctx.traverseCollection(collection, options)) {
      const object = item instanceof Activity ? { id: item.id?.href, objectId: item.objectId?.href } : null;
      items.push({ type: item.constructor.name, id: item.id?.href ?? item.href?.href ?? null, ...object });
      if (items.length >= (body.limit ?? 100)) break;
    }
    return { type: collection.constructor.name, totalItems: collection.totalItems ?? null, items };
  },

  "POST /control/follow": async (ctx, body) => {
    const actor = await lookupActor(ctx, body.target);
    const follow = new Follow({ id: newId(ctx, "follows"), actor: ctx.getActorUri(USERNAME), object: actor.id });
    state.following.set(actor.id.href, { followId: follow.id.href, accepted: false, rejected: false });
    await ctx.sendActivity({ identifier: USERNAME }, actor, follow, { immediate: true });
    return { followId: follow.id.href, actor: actor.id.href, inbox: actor.inboxId.href };
  },

  "POST /control/unfollow": async (ctx, body) => {
    const actor = await lookupActor(ctx, body.target);
    const current = state.following.get(actor.id.href);
    if (current == null) throw new ControlError(409, `not following ${actor.id.href}`);
    const undo = new Undo({
      id: newId(ctx, "undos"),
      actor: ctx.getActorUri(USERNAME),
      object: new Follow({ id: new URL(current.followId), actor: ctx.getActorUri(USERNAME), object: actor.id }),
    });
    await ctx.sendActivity({ identifier: USERNAME }, actor, undo, { immediate: true });
    state.following.delete(actor.id.href);
    return { undoId: undo.id.href };
  },

  // A public reply, shaped as Mastodon sends one: to Public, cc our followers and the mentioned actors.
  "POST /control/reply": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    const mentioned = [];
    for (const target of body.mentions ?? []) mentioned.push(await lookupActor(ctx, target));
    const noteId = newId(ctx, "notes");
    const note = new Note({
      id: noteId,
      attribution: ctx.getActorUri(USERNAME),
      content: body.content,
      replyTarget: new URL(body.inReplyTo),
      url: noteId,
      published: Temporal.Now.instant(),
      to: new URL(PUBLIC),
      ccs: [ctx.getFollowersUri(USERNAME), ...mentioned.map((actor) => actor.id)],
      tags: mentioned.map(
        (actor) =>
          new Mention({ href: actor.id, name: `@${actor.preferredUsername}@${new URL(actor.id.href).host}` }),
      ),
    });
    state.notes.set(noteId.href, note);
    const create = new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: ctx.getActorUri(USERNAME),
      object: note,
      tos: note.toIds,
      ccs: note.ccIds,
      published: note.published,
    });
    await ctx.sendActivity({ identifier: USERNAME }, recipient, create, { immediate: true });
    return { noteId: noteId.href, createId: create.id.href };
  },

  // A public Note quoting `object` (FEP-044f `quote`), then a QuoteRequest for it to the object's author, as
  // Mastodon 4.5 asks before showing a quote. The answer (Accept with a stamp, or Reject) lands in the inbox.
  "POST /control/quote": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    const noteId = newId(ctx, "notes");
    const note = new Note({
      id: noteId,
      attribution: ctx.getActorUri(USERNAME),
      content: body.content,
      quote: new URL(body.object),
      url: noteId,
      published: Temporal.Now.instant(),
      to: new URL(PUBLIC),
      ccs: [ctx.getFollowersUri(USERNAME)],
    });
    state.notes.set(noteId.href, note);
    const request = new QuoteRequest({
      id: newId(ctx, "quote_requests"),
      actor: ctx.getActorUri(USERNAME),
      object: new URL(body.object),
      instrument: note,
    });
    await ctx.sendActivity({ identifier: USERNAME }, recipient, request, { immediate: true });
    return { noteId: noteId.href, requestId: request.id.href };
  },

  // A signed Create(Note) to any inbox URL, for tests that check Fedify's signatures on their own server.
  "POST /control/send-note": async (ctx, body) => {
    const noteId = newId(ctx, "notes");
    const note = new Note({
      id: noteId,
      attribution: ctx.getActorUri(USERNAME),
      content: body.content,
      to: new URL(PUBLIC),
    });
    state.notes.set(noteId.href, note);
    const create = new Create({ id: new URL(`${noteId.href}/activity`), actor: ctx.getActorUri(USERNAME), object: note });
    const inbox = new URL(body.inbox);
    await ctx.sendActivity({ identifier: USERNAME }, { id: inbox, inboxId: inbox }, create, { immediate: true });
    return { noteId: noteId.href, createId: create.id.href };
  },

  // Like or Announce (boost) an object, as Mastodon sends them: the Announce to Public, cc the object's author.
  "POST /control/react": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    const kind = body.type === "Announce" ? Announce : Like;
    const reaction = new kind({
      id: newId(ctx, body.type === "Announce" ? "announces" : "likes"),
      actor: ctx.getActorUri(USERNAME),
      object: new URL(body.object),
      ...(kind === Announce ? { to: new URL(PUBLIC), ccs: [recipient.id, ctx.getFollowersUri(USERNAME)] } : {}),
    });
    state.reactions.set(reaction.id.href, reaction);
    // Through the shared inbox, as Mastodon delivers to servers it knows.
    await ctx.sendActivity({ identifier: USERNAME }, recipient, reaction, { immediate: true, preferSharedInbox: true });
    return { id: reaction.id.href };
  },

  "POST /control/undo": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    const reaction = state.reactions.get(body.id);
    if (reaction == null) throw new ControlError(404, `no reaction ${body.id}`);
    const undo = new Undo({ id: newId(ctx, "undos"), actor: ctx.getActorUri(USERNAME), object: reaction });
    await ctx.sendActivity({ identifier: USERNAME }, recipient, undo, { immediate: true, preferSharedInbox: true });
    state.reactions.delete(body.id);
    return { undoId: undo.id.href };
  },

  "POST /control/edit": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    const current = state.notes.get(body.noteId);
    if (current == null) throw new ControlError(404, `no note ${body.noteId}`);
    const note = current.clone({ content: body.content, updated: Temporal.Now.instant() });
    state.notes.set(body.noteId, note);
    const update = new Update({
      id: newId(ctx, "updates"),
      actor: ctx.getActorUri(USERNAME),
      object: note,
      tos: note.toIds,
      ccs: note.ccIds,
    });
    await ctx.sendActivity({ identifier: USERNAME }, recipient, update, { immediate: true });
    return { updateId: update.id.href };
  },

  "POST /control/delete": async (ctx, body) => {
    const recipient = await lookupActor(ctx, body.recipient);
    if (!state.notes.delete(body.noteId)) throw new ControlError(404, `no note ${body.noteId}`);
    const del = new Delete({
      id: newId(ctx, "deletes"),
      actor: ctx.getActorUri(USERNAME),
      object: new Tombstone({ id: new URL(body.noteId) }),
      to: new URL(PUBLIC),
    });
    await ctx.sendActivity({ identifier: USERNAME }, recipient, del, { immediate: true });
    return { deleteId: del.id.href };
  },
};

// ---- HTTP: node's server in front of federation.fetch() ----------------------------------------

const MAX_BODY = 2 * 1024 * 1024;

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ControlError(413, "body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function toRequest(req, origin, body) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
    else if (value != null) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url, origin), { method: req.method, headers, body: hasBody ? body : undefined });
}

async function send(res, response) {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(Buffer.from(await response.arrayBuffer()));
}

function sendJson(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

async function handle(req, res, origin) {
  const body = await readBody(req);
  const url = new URL(req.url, origin);
  const route = control[`${req.method} ${url.pathname}`];
  if (route != null) {
    const ctx = federation.createContext(new URL(origin), undefined);
    try {
      sendJson(res, 200, await route(ctx, body.length ? JSON.parse(body.toString("utf8")) : {}));
    } catch (error) {
      sendJson(res, error instanceof ControlError ? error.status : 500, { error: String(error?.stack ?? error) });
    }
    return;
  }
  const request = toRequest(req, origin, body);
  const isInboxPost = req.method === "POST" && /\/inbox$/.test(url.pathname);
  let parsed = null;
  if (isInboxPost) {
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = null;
    }
  }
  const scheme = signatureScheme(request.headers);
  const response = await requestStore.run({ body: parsed, scheme }, () =>
    federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("not found", { status: 404 }),
      onNotAcceptable: () => new Response("not acceptable", { status: 406 }),
    }),
  );
  if (isInboxPost) {
    const entry = { path: url.pathname, scheme, status: response.status, type: parsed?.type ?? null, id: parsed?.id };
    if (response.status >= 400) entry.reason = (await response.clone().text()).slice(0, 500);
    state.inboxRequests.push(entry);
  }
  await send(res, response);
}

const server = http.createServer((req, res) => {
  handle(req, res, server.origin).catch((error) => {
    if (!res.headersSent) sendJson(res, error instanceof ControlError ? error.status : 500, { error: String(error) });
    else res.destroy();
  });
});

server.listen(Number(args.port), "127.0.0.1", () => {
  const { port } = server.address();
  server.origin = `http://127.0.0.1:${port}`;
  federation = buildFederation(server.origin);
  const actor = `${server.origin}/users/${USERNAME}`;
  process.stdout.write(
    `READY ${JSON.stringify({ origin: server.origin, actor, handle: `@${USERNAME}@127.0.0.1:${port}` })}\n`,
  );
});

// ---- Bounded lifetime ---------------------------------------------------------------------------

function shutdown(code) {
  server.close();
  process.exit(code);
}
process.stdin.on("end", () => shutdown(0));
process.stdin.on("close", () => shutdown(0));
process.stdin.resume();
process.on("SIGTERM", () => shutdown(0));
setTimeout(() => {
  process.stderr.write("peer: max lifetime reached, exiting\n");
  shutdown(2);
}, Number(args["max-seconds"]) * 1000);
