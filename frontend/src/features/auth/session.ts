import { useQuery } from '@tanstack/react-query'
import { getConfig, getMe } from '../../client/api'
import { ApiError, hasSessionHint } from '../../client/http'
import type { User } from '../../client/types'
import { qk } from '../../lib/queryClient'

/**
 * Who is signed in: the user, or null when there is no session. Without the session hint (see
 * hasSessionHint) the answer is null without asking, so a signed-out visit makes no request that
 * can only fail; with it, a 401 that survives the refresh also means null.
 */
export async function fetchSession(): Promise<User | null> {
  if (!hasSessionHint()) return null
  try {
    return await getMe()
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null
    throw err
  }
}

export function useSession() {
  return useQuery<User | null>({ queryKey: qk.me, queryFn: fetchSession, staleTime: 5 * 60_000 })
}

export function useConfig() {
  return useQuery({ queryKey: qk.config, queryFn: getConfig, staleTime: 60_000 })
}
