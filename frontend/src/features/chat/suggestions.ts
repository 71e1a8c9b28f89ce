/**
 * The prompts offered on an empty chat: only requests the answerer is built for. A summary is
 * answered from the documents' sections and central sentences (not a search for the words
 * "main points"), and "What is “name” about?" summarises the document the name spells out.
 */
export function suggestions(newestReady?: string | null): string[] {
  const offered = ['Summarise the main points of my documents']
  if (newestReady) offered.push(`What is “${newestReady}” about?`)
  return offered
}
