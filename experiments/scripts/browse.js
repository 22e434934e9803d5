// A custom k6 script: each iteration reads a page of ten rows, checks it, then makes a call
// that waits 20 ms downstream, as a page that also calls another service would.
//
// The runner passes the target and the step through environment variables (the contract is
// in runner/scripts/sweepbench.js) and sets the scenarios itself: this script must not export
// `options.scenarios` (nor thresholds); the runner refuses it before anything starts if it does.
import http from 'k6/http';
import { check } from 'k6';
import { countError, markLoadStart } from '../../runner/scripts/sweepbench.js';

const base = __ENV.SWEEPBENCH_BASE_URL;
const timeout = __ENV.SWEEPBENCH_TIMEOUT;

export function setup() {
  markLoadStart();
}

export default function () {
  // The runner discards response bodies; this request asks for its body back.
  const page = http.get(`${base}/queries?n=10`, {
    timeout,
    responseType: 'text',
    tags: { name: 'page' },
  });
  countError(page);
  check(page, { 'page has ten rows': (r) => r.status === 200 && r.json().length === 10 });
  countError(http.get(`${base}/io?ms=20`, { timeout, tags: { name: 'downstream' } }));
}
