import { moveDocument } from '../../client/api'
import { errorMessage } from '../../client/http'

export interface MoveOutcome {
  moved: number
  /** The first refusal, for the message (the server is the authority: a viewer gets 403). */
  error: string | null
}

/** Moves each document (one request each: the endpoint takes one); the others go on after a refusal. */
export async function moveDocuments(ids: string[], target: string | null): Promise<MoveOutcome> {
  const results = await Promise.allSettled(ids.map((id) => moveDocument(id, target)))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  return {
    moved: results.filter((r) => r.status === 'fulfilled').length,
    error: failed ? errorMessage(failed.reason) : null,
  }
}
