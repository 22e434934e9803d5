// A load generator with a known ceiling, for the client-limit capacity test: every iteration
// burns BUSY_MS of k6's own CPU before its request, so k6 on one core cannot start more than
// about 1000 / BUSY_MS iterations per second, whatever the server could answer.
import http from 'k6/http';
import { countError, markLoadStart, nextRequest } from '../../../runner/scripts/sweepbench.js';

const busyMs = Number(__ENV.BUSY_MS || 3);

export function setup() {
  markLoadStart();
}

export default function () {
  const until = Date.now() + busyMs;
  let spins = 0;
  while (Date.now() < until) spins += 1;
  const request = nextRequest();
  countError(http.request(request.method, request.url, request.body, request.params));
  return spins;
}
