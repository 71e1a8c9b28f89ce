import { isEverything, type Scope } from './scope'

/**
 * The prompts offered on an empty chat: only requests the answerer is built for. A summary is
 * answered from the documents' sections and central sentences (not a search for the words
 * "main points"), and "What is “name” about?" summarises the document the name spells out.
 */
export function suggestions(scope: Scope, newestReady?: string | null): string[] {
  if (!isEverything(scope)) {
    const one = scope.documents.length === 1 && scope.collections.length === 0
    return [one ? 'Summarise this document' : 'Summarise the selected documents']
  }
  const offered = ['Summarise the main points of my documents']
  if (newestReady) offered.push(`What is “${newestReady}” about?`)
  return offered
}
