import { useQuery } from '@tanstack/react-query'
import { getConfig, getMe } from '../../client/api'
import { ApiError } from '../../client/http'
import type { User } from '../../client/types'
import { qk } from '../../lib/queryClient'

/** The signed-in user, or null when there is no session (a 401 after the refresh attempt). */
export function useSession() {
  return useQuery<User | null>({
    queryKey: qk.me,
    queryFn: async () => {
      try {
        return await getMe()
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null
        throw err
      }
    },
    staleTime: 5 * 60_000,
  })
}

export function useConfig() {
  return useQuery({ queryKey: qk.config, queryFn: getConfig, staleTime: 60_000 })
}
