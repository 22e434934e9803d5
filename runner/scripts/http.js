// sweepbench's standard k6 script: every virtual user requests one endpoint in a loop.
//
// The runner supplies the scenarios ("warmup", then "measure") through --config, so this file
// holds only the request. Contract (also for custom scripts), all through environment variables:
//   SWEEPBENCH_BASE_URL  e.g. http://127.0.0.1:8123 (no trailing slash)
//   SWEEPBENCH_PATH      the endpoint path, e.g. /json
//   SWEEPBENCH_TIMEOUT   k6 request timeout, e.g. 10s
//   SWEEPBENCH_LEVEL     the step's level (virtual users or requests per second)
// Errors of the measured window are counted by cause in the sweepbench_errors_* counters.
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const url = `${__ENV.SWEEPBENCH_BASE_URL}${__ENV.SWEEPBENCH_PATH}`;
const params = { timeout: __ENV.SWEEPBENCH_TIMEOUT || '10s' };

const errors = {
  status_4xx: new Counter('sweepbench_errors_status_4xx'),
  status_5xx: new Counter('sweepbench_errors_status_5xx'),
  timeout: new Counter('sweepbench_errors_timeout'),
  connection_refused: new Counter('sweepbench_errors_connection_refused'),
  connection_reset: new Counter('sweepbench_errors_connection_reset'),
  other: new Counter('sweepbench_errors_other'),
};

export function setup() {
  // Marks the wall-clock start of the load, so the runner aligns its CPU and memory window.
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

export default function () {
  const res = http.get(url, params);
  if ((res.status >= 400 || res.status === 0) && exec.scenario.name === 'measure') {
    errors[errorCause(res)].add(1);
  }
}
