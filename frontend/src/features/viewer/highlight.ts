/**
 * Finding a cited passage in text that was split differently (pdf.js text items,
 * or a chunk's text): compare on a normalised form and map matches back.
 */

export function normalise(s: string): string {
  return s
    // Soft hyphens (pdfium marks them \x02) carry no text.
    // eslint-disable-next-line no-control-regex
    .replace(/\u00ad|\u0002/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\s+/g, ' ')
    .toLowerCase()
}

/** Candidate search strings from a snippet, longest first: whole, then word windows. */
export function needles(snippet: string): string[] {
  const cleaned = normalise(snippet.replace(/…|\.\.\./g, ' ')).trim()
  if (!cleaned) return []
  const words = cleaned.split(' ')
  const out = [cleaned]
  for (const size of [16, 10, 6]) {
    if (words.length <= size) continue
    for (const start of [0, Math.floor((words.length - size) / 2), words.length - size]) {
      out.push(words.slice(start, start + size).join(' '))
    }
  }
  return [...new Set(out)].filter((n) => n.length >= 12 || n === cleaned)
}

/**
 * Indices of the text pieces that hold the best match of `snippet`, or [] when
 * nothing matches. Pieces are joined with a space, as pdf.js lays items out.
 */
export function findPieces(pieces: string[], snippet: string): number[] {
  let joined = ''
  const owner: number[] = []
  pieces.forEach((p, i) => {
    const n = normalise(p)
    if (joined && !joined.endsWith(' ') && !n.startsWith(' ')) {
      joined += ' '
      owner.push(-1)
    }
    joined += n
    for (let k = 0; k < n.length; k++) owner.push(i)
  })
  // A hyphenated line break ("exam- ple") should still match "example".
  for (const needle of needles(snippet)) {
    let at = joined.indexOf(needle)
    if (at < 0) at = indexIgnoringSpaces(joined, needle)
    if (at < 0) continue
    const hit = new Set<number>()
    const end = Math.min(joined.length, at + Math.max(needle.length, 1))
    for (let k = at; k < end; k++) if (owner[k]! >= 0) hit.add(owner[k]!)
    return [...hit].sort((a, b) => a - b)
  }
  return []
}

/** Like indexOf, but spaces and hyphens in `hay` may be absent from `needle` and vice versa. */
function indexIgnoringSpaces(hay: string, needle: string): number {
  const strip = (s: string) => {
    const map: number[] = []
    let out = ''
    for (let i = 0; i < s.length; i++) {
      if (s[i] === ' ' || s[i] === '-') continue
      out += s[i]
      map.push(i)
    }
    return { out, map }
  }
  const h = strip(hay)
  const n = strip(needle).out
  if (!n) return -1
  const at = h.out.indexOf(n)
  return at < 0 ? -1 : h.map[at]!
}

/** Splits `text` into [before, match, after] around the snippet, or null. */
export function splitOnSnippet(text: string, snippet: string): [string, string, string] | null {
  const lower = text.toLowerCase()
  for (const needle of needles(snippet)) {
    // Build a whitespace-tolerant pattern for the needle.
    const pattern = needle
      .split(' ')
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+')
    const m = new RegExp(pattern).exec(lower)
    if (m) return [text.slice(0, m.index), text.slice(m.index, m.index + m[0].length), text.slice(m.index + m[0].length)]
  }
  return null
}
