// Regenerates src/client/schema.d.ts and src/client/operations.ts from ../backend/openapi.json.
import { existsSync } from 'node:fs'
import { clientDir, FILES, generate, spec } from './api-codegen.mjs'

if (!existsSync(spec)) {
  console.error(`gen:api: ${spec} is missing (make openapi produces it)`)
  process.exit(1)
}
generate(clientDir)
console.log(`gen:api: wrote ${FILES.map((f) => `src/client/${f}`).join(' and ')}`)
