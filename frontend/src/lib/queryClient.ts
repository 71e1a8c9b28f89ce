import { QueryClient } from '@tanstack/react-query'
import { ApiError } from '../client/http'

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: true,
      // Client errors will not fix themselves by retrying.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
    mutations: { retry: false },
  },
})

/** Drops everything cached for a previous session, keeping only public config. */
export function forgetPreviousUser(client: QueryClient): void {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'config' && q.queryKey[0] !== 'me' })
}

export const qk = {
  me: ['me'] as const,
  config: ['config'] as const,
  documents: (params?: object) => (params ? (['documents', params] as const) : (['documents'] as const)),
  document: (id: string) => ['document', id] as const,
  chunks: (id: string, params?: object) => ['chunks', id, params ?? {}] as const,
  readyDocuments: ['documents', 'ready-all'] as const,
  conversations: ['conversations'] as const,
  conversation: (id: string) => ['conversation', id] as const,
  apiKeys: ['api-keys'] as const,
  collections: ['collections'] as const,
  collection: (id: string) => ['collections', id] as const,
  admin: (part: string, params?: object) => ['admin', part, params ?? {}] as const,
}
