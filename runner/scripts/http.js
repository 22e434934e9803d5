// sweepbench's standard k6 script: every virtual user sends the scenario's requests in a loop,
// in the proportions of their weights.
//
// The runner supplies the scenarios ("warmup", then "measure") through --config, so this file
// holds only the requests. The environment-variable contract is described in sweepbench.js.
// Errors of the measured window are counted by cause in the sweepbench_errors_* counters.
import http from 'k6/http';
import { countError, markLoadStart, nextRequest } from './sweepbench.js';

export function setup() {
  markLoadStart();
}

export default function () {
  const request = nextRequest();
  countError(http.request(request.method, request.url, request.body, request.params));
}
