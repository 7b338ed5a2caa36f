// Loaded with `node --import` into a child process: any attempt to reach the network (TCP,
// TLS, UDP, DNS, HTTP(S), fetch) is recorded in $MFNER_NET_MARKER and fails.
import { appendFileSync } from 'node:fs';
import module from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns';
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';

const marker = process.env.MFNER_NET_MARKER;
function blocked(what) {
  return function () {
    if (marker) appendFileSync(marker, `${what}\n`);
    throw new Error(`network access attempted (${what})`);
  };
}
net.connect = net.createConnection = blocked('net.connect');
net.Socket.prototype.connect = blocked('net.Socket.connect');
tls.connect = blocked('tls.connect');
dgram.createSocket = blocked('dgram.createSocket');
for (const fn of ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveMx', 'resolveTxt', 'reverse']) {
  if (typeof dns[fn] === 'function') dns[fn] = blocked(`dns.${fn}`);
  if (typeof dns.promises[fn] === 'function') dns.promises[fn] = blocked(`dns.promises.${fn}`);
}
http.request = http.get = blocked('http.request');
https.request = https.get = blocked('https.request');
http2.connect = blocked('http2.connect');
globalThis.fetch = blocked('fetch');
if (globalThis.WebSocket) globalThis.WebSocket = blocked('WebSocket');
module.syncBuiltinESMExports();
