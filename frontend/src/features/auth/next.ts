/**
 * Where to go after signing in. Protected pages send people to `/login?next=<path>`; whichever way
 * the session then starts (the sign-in form, registration, or a single sign-on callback landing back on
 * /login), the RedirectIfAuthed guard reads `next` through `safeNext`, so only a path inside this app is
 * ever followed: no other origin (`//host`, `https:`, `/\host`), no control characters, no way back to
 * the sign-in pages themselves.
 */
export const HOME = '/documents'
const AUTH_PAGES = new Set(['/login', '/register'])

export function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 2048) return HOME
  // Browsers read `\` as `/` and drop tabs and newlines, so `/\evil.example` would leave the site.
  // eslint-disable-next-line no-control-regex
  if (!next.startsWith('/') || next.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(next)) return HOME
  const base = 'http://citewise.invalid'
  let url: URL
  try {
    url = new URL(next, base)
  } catch {
    return HOME
  }
  if (url.origin !== base || AUTH_PAGES.has(url.pathname)) return HOME
  return `${url.pathname}${url.search}${url.hash}`
}

/** The `next` a protected page asks for: where the visitor was, unless that is the home page. */
export function loginPathFor(location: { pathname: string; search: string; hash: string }): string {
  const here = `${location.pathname}${location.search}${location.hash}`
  return here && here !== '/' ? `/login?next=${encodeURIComponent(here)}` : '/login'
}
