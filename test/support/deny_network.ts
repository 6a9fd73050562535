// Preloaded (node --import) into a process under test: every way Node opens a connection or resolves a name
// is replaced by one that records the attempt in $R1_NET_LOG and fails. The test then asserts the log is empty.

import dns from "node:dns";
import { appendFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";

const log = process.env.R1_NET_LOG;
function refuse(what: string): never {
  if (log) appendFileSync(log, `${what}\n`);
  throw new Error(`network access refused by test harness: ${what}`);
}

net.Socket.prototype.connect = function connect() {
  refuse("net.Socket.connect");
} as typeof net.Socket.prototype.connect;
net.connect = net.createConnection = (() => refuse("net.createConnection")) as typeof net.connect;
tls.connect = (() => refuse("tls.connect")) as typeof tls.connect;
dns.lookup = (() => refuse("dns.lookup")) as unknown as typeof dns.lookup;
dns.resolve = (() => refuse("dns.resolve")) as unknown as typeof dns.resolve;
globalThis.fetch = (async (input: unknown) => refuse(`fetch ${String(input)}`)) as typeof fetch;
