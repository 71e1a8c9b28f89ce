// Fails when src/client/schema.d.ts is not what `npm run gen:api` would produce from
// ../backend/openapi.json, so CI catches drift between the backend and the SPA's types.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const spec = path.resolve(root, '..', 'backend', 'openapi.json')
const committed = path.join(root, 'src', 'client', 'schema.d.ts')

if (!existsSync(spec)) {
  console.error(`check:api: ${spec} is missing (make openapi produces it)`)
  process.exit(1)
}
if (!existsSync(committed)) {
  console.error('check:api: src/client/schema.d.ts is missing: run `npm run gen:api` and commit it')
  process.exit(1)
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'cw-api-'))
const fresh = path.join(dir, 'schema.d.ts')
try {
  execFileSync(path.join(root, 'node_modules', '.bin', 'openapi-typescript'), [spec, '-o', fresh], { stdio: 'pipe' })
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error('check:api: src/client/schema.d.ts is out of date with the backend: run `npm run gen:api`')
    try {
      execFileSync('diff', ['-u', committed, fresh], { stdio: 'inherit' })
    } catch {
      /* diff exits 1 when files differ: its output is what we wanted */
    }
    process.exit(1)
  }
  console.log('check:api: schema.d.ts matches the backend OpenAPI schema')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
