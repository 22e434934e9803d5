// The runner's side of the k6 script contract, as a module: the standard script (http.js)
// uses it, and a custom script in experiments/scripts/ may import it too:
//   import { markLoadStart, countError, nextRequest } from '../../runner/scripts/sweepbench.js';
//
// Environment variables the runner sets for every step:
//   SWEEPBENCH_BASE_URL    e.g. http://127.0.0.1:8123 (no trailing slash)
//   SWEEPBENCH_REQUESTS    JSON list of the scenario's requests, each
//                          {name, method, path, headers, body, weight}; `path` includes the
//                          query string, `body` is a string or null
//   SWEEPBENCH_PATH        the first request's path and query, e.g. /io?ms=50
//   SWEEPBENCH_TIMEOUT     k6 request timeout, e.g. 10s
//   SWEEPBENCH_LEVEL       the step's level (virtual users)
//   SWEEPBENCH_TARGET, SWEEPBENCH_REPETITION, SWEEPBENCH_DURATION, SWEEPBENCH_WARMUP
//                          the target's name, the repetition (from 1), and the measured and
//                          warmup durations (k6 duration strings)
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

export const baseUrl = __ENV.SWEEPBENCH_BASE_URL;
export const timeout = __ENV.SWEEPBENCH_TIMEOUT || '10s';

// The scenario's requests, ready for http.request(method, url, body, params).
export const requests = JSON.parse(
  __ENV.SWEEPBENCH_REQUESTS || JSON.stringify([{ path: __ENV.SWEEPBENCH_PATH || '/json' }]),
).map((r) => ({
  name: r.name || r.path,
  method: r.method || 'GET',
  url: `${baseUrl}${r.path}`,
  body: r.body === undefined ? null : r.body,
  weight: r.weight || 1,
  // The `name` tag groups URLs that differ by query, and names the request in a mix.
  params: { timeout, headers: r.headers || {}, tags: { name: r.name || r.path } },
}));

const errors = {
  status_4xx: new Counter('sweepbench_errors_status_4xx'),
  status_5xx: new Counter('sweepbench_errors_status_5xx'),
  timeout: new Counter('sweepbench_errors_timeout'),
  connection_refused: new Counter('sweepbench_errors_connection_refused'),
  connection_reset: new Counter('sweepbench_errors_connection_reset'),
  other: new Counter('sweepbench_errors_other'),
};

// Call from setup(): marks the wall-clock start of the load, so the runner aligns its CPU and
// memory window with k6's (without it the runner falls back to k6's process start).
export function markLoadStart() {
  console.log(`SWEEPBENCH_T0=${Date.now()}`);
}

function errorCause(res) {
  if (res.status >= 500) return 'status_5xx';
  if (res.status >= 400) return 'status_4xx';
  const message = (res.error || '').toLowerCase();
  if (res.error_code === 1050 || message.includes('timeout')) return 'timeout';
  if (message.includes('refused')) return 'connection_refused';
  if (message.includes('reset') || message.includes('eof') || message.includes('broken pipe')) {
    return 'connection_reset';
  }
  return 'other';
}

// Capacity trials only (the runner sets SWEEPBENCH_LATENCY_BUCKETS): every answer of the measured
// window is also counted in one latency bucket, counter sweepbench_latency_b<N> holding answers
// of at most BASE_MS * FACTOR^N ms (the last bucket: all slower ones). The runner reads the
// counters from k6's REST API once a second; their change since its last reading is a histogram
// of the last second's answers, which gives a recent percentile for the early stop.
const bucketCount = Number(__ENV.SWEEPBENCH_LATENCY_BUCKETS || 0);
const bucketBaseMs = Number(__ENV.SWEEPBENCH_LATENCY_BASE_MS || 1);
const bucketLogFactor = Math.log(Number(__ENV.SWEEPBENCH_LATENCY_FACTOR || 2));
const buckets = Array.from({ length: bucketCount }, (_, n) => new Counter(`sweepbench_latency_b${n}`));

function countLatency(ms) {
  const above = ms <= bucketBaseMs ? 0 : Math.ceil(Math.log(ms / bucketBaseMs) / bucketLogFactor);
  buckets[Math.min(above, bucketCount - 1)].add(1);
}

// Call with every response: a failed request of the measured window is counted by its cause.
export function countError(res) {
  if (exec.scenario.name !== 'measure') return;
  if (res.status >= 400 || res.status === 0) errors[errorCause(res)].add(1);
  if (bucketCount) countLatency(res.timings.duration);
}

// Smooth weighted round-robin: each request gets exactly its share of every cycle, spread out
// rather than bunched, and the same sequence on every run.
const totalWeight = requests.reduce((sum, r) => sum + r.weight, 0);
const credit = requests.map(() => 0);

export function nextRequest() {
  for (let i = 0; i < requests.length; i++) credit[i] += requests[i].weight;
  let best = 0;
  for (let i = 1; i < requests.length; i++) if (credit[i] > credit[best]) best = i;
  credit[best] -= totalWeight;
  return requests[best];
}

// Each virtual user starts at a different point of the cycle, so they do not move in lockstep.
for (let i = 0; i < __VU % 1000; i++) nextRequest();
