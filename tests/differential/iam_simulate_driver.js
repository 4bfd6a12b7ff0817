// Test-only driver for the differential test (tests/test_policy_differential.py): reads one JSON
// request per line on stdin, answers one JSON line per request on stdout, in the same process.
// It runs @cloud-copilot/iam-simulate (AGPL-3.0-or-later, a devDependency only, never shipped).
'use strict'
const readline = require('node:readline')
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const ALLOW_ALL = {
  name: 'deployer-identity',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
}

async function answer(request) {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context
    },
    identityPolicies: request.identity ? [ALLOW_ALL] : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.policy
  }
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error') {
    return { id: request.id, result: 'error', errors: result.errors }
  }
  return { id: request.id, result: result.overallResult }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
let queue = Promise.resolve()
lines.on('line', (line) => {
  if (!line.trim()) return
  queue = queue.then(async () => {
    let reply
    try {
      reply = await answer(JSON.parse(line))
    } catch (error) {
      reply = { id: null, result: 'error', errors: String(error && error.stack ? error.stack : error) }
    }
    process.stdout.write(JSON.stringify(reply) + '\n')
  })
})
