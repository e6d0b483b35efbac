// What the server asks of a cluster (docs/ARCHITECTURE.md, "The server on several processes"):
// the processes of one server share, through NATS, what must be one for all of them (the key ->
// id bindings, revocations, who is signed in where) and ask one another for what only the
// holder of a session can answer (an introduction's consent). Everything else stays in the
// process that holds the connection. nats.ts implements it; the server (server.ts, cluster-member.ts) uses only this contract,
// and without --cluster it uses none of it (the single process on its LevelDB journal).
//
// What is shared lives in JetStream key-value buckets replicated on the NATS nodes; each process
// keeps a mirror of them in memory, fed by KV watches, so that the server's decisions stay
// synchronous reads of that mirror (as of the single server's registry), and only writes wait
// for NATS.
import type { ServerEvent } from '../events.js';

export type ClusterOptions = {
  // NATS servers to connect to (nats://HOST:PORT or tls://HOST:PORT), tried in turn.
  servers: string[];
  // This process's name in the cluster: unique, [A-Za-z0-9_-]{1,32}.
  node: string;
  // Where clients reach this process (its --public HOST:PORT): named in introductions for relays.
  publicAddress: string;
  // Prefixes the buckets and subjects, so that two Parley servers can share one NATS ('parley').
  name: string;
  // Replicas of each KV bucket (3 in a deployment of three NATS nodes; at most the node count).
  replicas: number;
  // NATS credentials and TLS, as a real deployment needs them (all optional).
  auth: { user?: string; pass?: string; token?: string; credsFile?: string };
  tls: { ca?: string; cert?: string; key?: string } | null;
  // How long a process may be without NATS before it lets its sessions go (ms), and how long a
  // node may stay silent before the others take it for dead and free its sessions (ms). Their
  // sum, plus the heartbeat, stays under the 15 s.
  fenceAfterMs: number;
  deadAfterMs: number;
  heartbeatMs: number;
  now: () => number;
  log: (line: string) => void;
};

// Who holds an id's session, anywhere in the cluster.
export type Holder = { node: string; boot: string; address: string; at: number };

// An introduction asked of the process that holds the target's session: the asker's side as
// the target will see it, and the nonce and relay the asker's process chose.
export type IntroduceAsk = {
  asker: number;
  askerKey: string;
  host: string;
  port: number;
  lan: string[] | undefined;
  listenPort: number | undefined;
  target: number;
  nonce: string;
  punchAt: number;
  // HOST:PORT of the process both sides dial for a relay (the asker's process).
  relay: string;
};

export type IntroduceAnswer =
  // The target was told (introduce sent to it): the asker learns the target's side.
  | { ok: true; peerKey: string; host: string; port: number; lan: string[] | undefined; listenPort: number | undefined }
  // Refused as decideIntroduction refuses (offline, refused, rate...), or asked (contact-request
  // sent to the target: code PEER_ASKED).
  | { ok: false; code: string; reason: string };

export type ClusterHooks = {
  // Every registration and revocation the cluster learns of (its own included), as the events
  // the single server journals: cluster-member.ts applies them to its registry (registry.ts), so the
  // login and presence code reads one registry either way. session.opened/closed likewise, for
  // lastSeen.
  apply: (event: ServerEvent) => void;
  // An id came online or went offline on another process (or its process was found dead). Not
  // called for this process's own sessions: server.ts announces those itself.
  presence: (id: number, online: boolean, at: number) => void;
  // A key was revoked (by any process): close its connections here, tell watchers here.
  revoked: (keySha256: string, at: number) => void;
  // true: this process has been without NATS longer than fenceAfterMs; it must close its
  // sessions and refuse logins until false comes.
  fenced: (fenced: boolean) => void;
  // Another process asks this one to introduce its session `ask.target` to ask.asker.
  introduce: (ask: IntroduceAsk) => IntroduceAnswer;
};

export type Cluster = {
  node: string;
  boot: string;
  // The live holder of an id's session on another process (dead nodes' sessions are not live),
  // else undefined. A synchronous read of the mirror.
  holderOf: (id: number) => Holder | undefined;
  // The key's id, registering it when it has none: both bindings (key -> id, id -> key) are
  // created in the replicated bucket, so two processes never give one id to two keys nor two ids
  // to one key. `candidate` is the single server's assignId with what is taken; null: no id.
  register: (keySha256: string, candidate: (taken: (id: number) => boolean) => number | null) => Promise<number | null>;
  // Claims the id's one session for this process. Refused with the live holder when another
  // process has it.
  claim: (id: number, address: string) => Promise<{ ok: true } | { ok: false; holder: Holder }>;
  // The session ended (or was never opened after a claim): frees the id.
  release: (id: number) => Promise<void>;
  // Revokes a key for every process; false when it was revoked already.
  revoke: (keySha256: string, at: number) => Promise<boolean>;
  // Asks the process `node` to introduce; `gone` when no process answers (it is dead).
  introduce: (node: string, ask: IntroduceAsk) => Promise<IntroduceAnswer | { gone: true }>;
  // Stops heartbeats and watches, releases this process's sessions, closes the connection.
  close: () => Promise<void>;
};
