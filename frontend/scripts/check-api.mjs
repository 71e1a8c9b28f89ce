// Fails when src/client/schema.d.ts or src/client/operations.ts is not what `npm run gen:api` would
// produce from ../backend/openapi.json, so CI catches drift between the backend and the SPA's client.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { clientDir, FILES, generate, spec } from './api-codegen.mjs'

if (!existsSync(spec)) {
  console.error(`check:api: ${spec} is missing (make openapi produces it)`)
  process.exit(1)
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'cw-api-'))
let failed = false
try {
  generate(dir)
  for (const name of FILES) {
    const committed = path.join(clientDir, name)
    const fresh = path.join(dir, name)
    if (!existsSync(committed)) {
      console.error(`check:api: src/client/${name} is missing: run \`npm run gen:api\` and commit it`)
      failed = true
      continue
    }
    if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
      console.error(`check:api: src/client/${name} is out of date with the backend: run \`npm run gen:api\``)
      try {
        execFileSync('diff', ['-u', committed, fresh], { stdio: 'inherit' })
      } catch {
        /* diff exits 1 when files differ: its output is what we wanted */
      }
      failed = true
    }
  }
  if (!failed) console.log('check:api: schema.d.ts and operations.ts match the backend OpenAPI schema')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
