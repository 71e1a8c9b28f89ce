/**
 * Up to two letters for an avatar: the first letters of the first and last words of the name
 * ("Browser Tester" → "BT", "Ada" → "A"), else of the e-mail's local part ("jane.doe@…" → "JD").
 */
export function initials(name: string | null | undefined, email: string): string {
  const source = name?.trim() || email.split('@')[0] || email
  const words = source.split(/[\s._+-]+/u).filter((w) => /[\p{L}\p{N}]/u.test(w))
  const first = (w: string | undefined) => (w ? Array.from(w.replace(/^[^\p{L}\p{N}]+/u, ''))[0] ?? '' : '')
  const letters = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0])
  return letters.toLocaleUpperCase() || '?'
}
